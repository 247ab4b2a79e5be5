// Shared by the load-test kit's tests: the fixture replica, fast simulation
// flags, captured command output and the JSON report reader.
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { PassThrough } from 'node:stream'
import type { ReportFile } from '../../src/report/json.js'

export const FIXTURE = `node ${join(import.meta.dirname, '../fixtures/loadtest-pod.mjs')}`

/**
 * A rollout compressed to a few seconds: 2 replicas, short preStop, propagation and probes, on the
 * kit's loopback relay (the kernel data path has tests of its own: network-kernel*.test.ts).
 */
export const FAST = ['--network', 'userspace', '--replicas', '2', '--prestop-seconds', '0.6', '--propagation-seconds', '0.3', '--readiness-period-seconds', '0.2', '--steady-seconds', '0.3', '--scale', '0.1']

/** Streams for a command, with what was written to them; stderr may pose as a terminal. */
export function io (tty = false) {
  const stdout = new PassThrough()
  const stderr = Object.assign(new PassThrough(), { isTTY: tty })
  let out = ''
  let err = ''
  stdout.on('data', (c: Buffer) => { out += c.toString() })
  stderr.on('data', (c: Buffer) => { err += c.toString() })
  return { stdout, stderr, out: () => out, err: () => err }
}

/** A report folder of the test's own, removed with it (tap's `t.testdir`). */
export async function outDir (t: { testdir: () => string }): Promise<string> {
  return t.testdir()
}

export async function report (dir: string): Promise<ReportFile> {
  return JSON.parse(await readFile(join(dir, 'report.json'), 'utf8')) as ReportFile
}
