/** Probing a listening app over a real socket, and waiting for check results. */
import type { FastifyInstance } from 'fastify'
import type { AddressInfo } from 'node:net'
import type { CheckResult } from '../../src/index.js'

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

/** Collects unhandled rejections for the rest of the test file. */
export function recordUnhandledRejections (): unknown[] {
  const seen: unknown[] = []
  process.on('unhandledRejection', (reason) => { seen.push(reason) })
  return seen
}
