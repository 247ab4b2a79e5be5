/**
 * The load-test kit, driven through its CLI (never its modules: the kit's
 * folders may move, its CLI and report.json stay). One call runs one recipe
 * through one proxy for several scenarios, one rollout each.
 */
import { spawn, spawnSync } from 'node:child_process'
import { createWriteStream, existsSync } from 'node:fs'
import { join } from 'node:path'
import { MatrixError } from './errors.js'
import type { Invocation } from './plan.js'
import { recipeCommand, RECIPES_BUILD_DIR } from './recipes.js'

export const KIT_CLI = 'kit/dist/cli/index.js'

export function kitPath (root: string): string {
  const cli = join(root, KIT_CLI)
  if (!existsSync(cli)) throw new MatrixError(`${cli} does not exist: build the kit first (npm run build)`)
  return cli
}

/** The compiled recipes must be there: `npm run matrix` compiles them first (its prematrix script). */
export function checkRecipesBuilt (root: string, ids: readonly string[]): void {
  const missing = ids.filter((id) => !existsSync(join(root, RECIPES_BUILD_DIR, `${id}.js`)))
  if (missing.length > 0) throw new MatrixError(`${missing.map((id) => `${RECIPES_BUILD_DIR}/${id}.js`).join(', ')} missing: compile the recipes first (tsc -p matrix/tsconfig.json; npm run matrix does it)`)
}

/** Whether the kit's `rollout` knows a flag (read from its help, which lists every flag). */
export function kitHasFlag (root: string, flag: string): boolean {
  const help = spawnSync(process.execPath, [kitPath(root), 'rollout', '--help'], { cwd: root, encoding: 'utf8' })
  return `${help.stdout}${help.stderr}`.includes(flag)
}

export function kitArgs (call: Invocation, outDir: string, extra: readonly string[]): string[] {
  return [
    'rollout',
    '--command', recipeCommand(call.recipe),
    '--no-baseline',
    // Every recipe serves every route the scenarios use (matrix/routes.ts):
    // the kit's preflight replica would only cost a start per call.
    '--no-preflight',
    '--readiness-path', call.recipe.readinessPath,
    '--proxy', call.proxy,
    '--protocol', call.protocol,
    '--scenarios', call.scenarios.join(','),
    // One rollout per run: back-to-back rollouts share their clients' connections (docs/results.md).
    '--rollouts', '1',
    // The same idle-pool think times for every recipe in the n-th rollout.
    '--seed', String(call.repetition),
    // Traffic before the rollout and after the last pod exited drops nothing
    // for any recipe: the kit's 1 s default, twice per run, was 7 % of the
    // matrix's time, which must stay under 30 minutes.
    '--steady-seconds', '0.3',
    '--out', outDir,
    ...extra
  ]
}

/**
 * Runs the kit with the live progress line on our stderr and its text report
 * in `<outDir>/kit.log`. Resolves with its exit code (1 is the usual answer
 * for a recipe that dropped requests).
 */
export async function runKit (root: string, args: readonly string[], outDir: string): Promise<number> {
  const log = createWriteStream(join(outDir, 'kit.log'))
  const child = spawn(process.execPath, [kitPath(root), ...args], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] })
  child.stdout.pipe(log)
  const code = await new Promise<number>((resolve, reject) => {
    child.once('error', reject)
    child.once('close', (c, signal) => { resolve(c ?? (signal === null ? 1 : 128)) })
  })
  await new Promise<void>((resolve) => { log.end(resolve) })
  return code
}
