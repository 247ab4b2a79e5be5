/**
 * `fastify start` (fastify-cli) closes the app through close-with-grace with
 * `delay: --close-grace-delay`, 500 ms by default: close-with-grace exits 1
 * that long after SIGTERM, in the middle of the drain. When the app installs
 * close-with-grace itself, its delay cannot be seen from outside; under
 * `fastify start` it can: the command line is read back (fastify-cli's
 * cli.js removes it from `process.argv`) and parsed by fastify-cli's own
 * parser, which also reads `FASTIFY_CLOSE_GRACE_DELAY` and `--config`.
 */
import { readFileSync, realpathSync } from 'node:fs'
import { createRequire } from 'node:module'
import { basename, dirname } from 'node:path'
import type { DrainConfig } from '../drain/index.js'
import { WARNING_CODES } from '../errors.js'

export interface CommandLine {
  /** `process.argv`: `[node, script]` once fastify-cli has parsed it. */
  readonly argv: readonly string[]
  readonly execArgv: readonly string[]
  /** The arguments the process was started with. */
  readonly read: () => readonly string[]
}

/** Linux (every Kubernetes node, every container): elsewhere the delay stays unknown and nothing is said. */
function readProcCmdline (): readonly string[] {
  return readFileSync('/proc/self/cmdline', 'utf8').split('\0').slice(0, -1)
}

const PROCESS: CommandLine = { argv: process.argv, execArgv: process.execArgv, read: readProcCmdline }

/** The close grace delay of `fastify start`, or undefined when this process is not one (or it cannot tell). */
export function fastifyStartCloseGraceDelayMs (commandLine: CommandLine = PROCESS): number | undefined {
  try {
    const script = realpathSync(commandLine.argv[1] ?? '')
    const args = commandLine.read().slice(2 + commandLine.execArgv.length)
    if (basename(script) !== 'cli.js' || basename(dirname(script)) !== 'fastify-cli' || args[0] !== 'start') return undefined
    // Coerced to a number by fastify-cli, 500 when not given.
    const parse = createRequire(script)('./args.js') as (args: readonly string[]) => { closeGraceDelay: number }
    return parse(args.slice(1)).closeGraceDelay
  } catch {
    return undefined
  }
}

/** Warns at startup (shown with `logger: false` too) when `fastify start` would exit before the drain ends. */
export function warnShortCloseGraceDelay (config: DrainConfig, delayMs = fastifyStartCloseGraceDelayMs()): void {
  const { drainEndMs: drainMs, lastResortMs: suggestedMs } = config.budget
  if (delayMs === undefined || delayMs >= drainMs) return
  process.emitWarning(
    `fastify start exits ${delayMs} ms after SIGTERM (--close-grace-delay), but the drain may take up to ${drainMs} ms ` +
    '(its HTTP deadline plus cleanup): in-flight requests would be cut and the cleanups skipped. ' +
    `Start it with --close-grace-delay ${suggestedMs} (or FASTIFY_CLOSE_GRACE_DELAY=${suggestedMs}).`,
    { type: 'FastifyZeroDowntimeWarning', code: WARNING_CODES.FST_ZD_CLOSE_GRACE_DELAY }
  )
}
