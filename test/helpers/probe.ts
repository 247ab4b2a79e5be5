/** Probing a listening app over a real socket, and waiting for check results. */
import type { FastifyInstance } from 'fastify'
import type { AddressInfo } from 'node:net'
import type { CheckFunction, CheckResult, CheckSpec } from '../../src/index.js'

export interface ProbeReply {
  status: number
  headers: Headers
  body: { status?: string, output?: string, checks?: Record<string, Array<Record<string, unknown>>>, notes?: string[] }
}

export function baseUrl (app: FastifyInstance): string {
  return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
}

export async function probe (app: FastifyInstance, path: string): Promise<ProbeReply> {
  const res = await fetch(baseUrl(app) + path)
  return { status: res.status, headers: res.headers, body: await res.json() as ProbeReply['body'] }
}

/** Resolves with the next result of check `name` whose status is `status`. */
export async function nextResult (app: FastifyInstance, name: string, status: CheckResult['status']): Promise<CheckResult> {
  return await new Promise((resolve) => {
    const listener = (result: CheckResult): void => {
      if (result.name !== name || result.status !== status) return
      app.zeroDowntime.off('check', listener)
      resolve(result)
    }
    app.zeroDowntime.on('check', listener)
  })
}

/** `spec` with its runs counted: `runs()` is how many have started so far. */
export function countRuns (spec: CheckSpec): { spec: CheckSpec, runs: () => number } {
  let runs = 0
  const check: CheckFunction = async (ctx) => { runs++; return await spec.check(ctx) }
  return { spec: { ...spec, check }, runs: () => runs }
}

/**
 * The next result of check `name` whose status is `status`, with the number of
 * the run that produced it: a check's runs never overlap and the next one is
 * scheduled only after its result was emitted, so the runs started when the
 * result comes are the runs up to and including its own.
 */
export async function nextResultOfRun (app: FastifyInstance, name: string, status: CheckResult['status'], runs: () => number): Promise<{ result: CheckResult, run: number }> {
  return await new Promise((resolve) => {
    const listener = (result: CheckResult): void => {
      if (result.name !== name || result.status !== status) return
      app.zeroDowntime.off('check', listener)
      resolve({ result, run: runs() })
    }
    app.zeroDowntime.on('check', listener)
  })
}

/** Collects unhandled rejections for the rest of the test file. */
export function recordUnhandledRejections (): unknown[] {
  const seen: unknown[] = []
  process.on('unhandledRejection', (reason) => { seen.push(reason) })
  return seen
}
