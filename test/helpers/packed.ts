// Both packages as a user gets them: `npm pack` of the plugin and the kit into
// a scratch folder outside the repository, and a project there of the user's
// own. Shared by the tests that install the tarballs.
import { execFile } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'

const exec = promisify(execFile)
export const root = join(import.meta.dirname, '..', '..')
// Children here run packed JavaScript from outside the repository: no tsx, and
// no coverage hooks from tap (the coverage of the kit comes from kit/test).
export const env = { ...process.env, _TAPJS_PROCESSINFO_COVERAGE_: '0', NODE_OPTIONS: '', npm_config_loglevel: 'error', npm_config_audit: 'false', npm_config_fund: 'false' }

export interface Run { code: number, stdout: string, stderr: string }

/** Runs a command to its end; never rejects (a failure is its exit code and output). */
export async function run (file: string, args: string[], cwd: string): Promise<Run> {
  try {
    const { stdout, stderr } = await exec(file, args, { cwd, env, maxBuffer: 64 << 20, timeout: 240_000 })
    return { code: 0, stdout, stderr }
  } catch (err) {
    const e = err as { code?: unknown, stdout?: string, stderr?: string }
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: `${e.stderr ?? ''}${String(err)}` }
  }
}

/**
 * A scratch folder under os.tmpdir(), not t.testdir() (which is inside the
 * repository): from there Node would resolve what the project lacks from the
 * repository's own node_modules and hide a missing dependency. Removed at
 * teardown, registered before anything can fail.
 */
export async function scratchDir (t: { teardown: (fn: () => Promise<void>) => void }, prefix: string): Promise<string> {
  const scratch = await mkdtemp(join(tmpdir(), prefix))
  t.teardown(async () => { await rm(scratch, { recursive: true, force: true }) })
  return scratch
}

/** Packs the plugin and the kit into `packs`; their tarballs, or the failed npm run. */
export async function packBoth (packs: string): Promise<{ plugin: string, kit: string } | Run> {
  await run('mkdir', ['-p', packs], root)
  for (const args of [['pack', '--pack-destination', packs], ['pack', '-w', 'kit', '--pack-destination', packs]]) {
    const r = await run('npm', [...args, '--ignore-scripts', '--json'], root)
    if (r.code !== 0) return r
  }
  return { plugin: join(packs, 'fastify-zero-downtime-0.1.0.tgz'), kit: join(packs, 'fastify-zero-downtime-kit-0.1.0.tgz') }
}
