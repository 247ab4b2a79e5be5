/** Flag parsing shared by `rollout` and `check`: node:util parseArgs plus typed numbers. */
import { parseArgs, type ParseArgsConfig } from 'node:util'

export class UsageError extends Error {}

/** parseArgs that turns its errors (unknown flag, missing value) into a UsageError. */
export function parseFlags<T extends ParseArgsConfig> (config: T): ReturnType<typeof parseArgs<T>>['values'] {
  try {
    return parseArgs(config).values
  } catch (err) {
    throw new UsageError((err as Error).message)
  }
}

/** A number flag: finite, at least `min`, an integer when asked. */
export function numberFlag (name: string, raw: string, { min = 0, integer = false } = {}): number {
  const value = Number(raw)
  if (raw.trim() === '' || !Number.isFinite(value) || value < min || (integer && !Number.isInteger(value))) {
    throw new UsageError(`--${name} must be ${integer ? 'an integer' : 'a number'} >= ${min}, got ${JSON.stringify(raw)}`)
  }
  return value
}

/** The largest seed: `seededRandom` keeps 32 bits, so a larger one would repeat a smaller one's sequence. */
const MAX_SEED = 2 ** 32 - 1

/** `--seed`: absent, or an integer in [0, 2^32); spread into a RunSpec. */
export function seedFlag (raw: string | undefined): { seed?: number } {
  if (raw === undefined) return {}
  const seed = numberFlag('seed', raw, { integer: true })
  if (seed > MAX_SEED) throw new UsageError(`--seed must be an integer from 0 to ${MAX_SEED}, got ${JSON.stringify(raw)}`)
  return { seed }
}

/**
 * The frame of a command: parses `argv` strictly against `options` (a bad flag
 * prints the error and the help, exit 2), answers --help, then runs `body`.
 */
export async function command<O extends NonNullable<ParseArgsConfig['options']>> (
  name: string, help: string, io: { stdout: NodeJS.WritableStream, stderr: NodeJS.WritableStream },
  argv: string[], options: O,
  body: (flags: ReturnType<typeof parseArgs<{ args: string[], options: O, strict: true, allowPositionals: false }>>['values']) => Promise<number>
): Promise<number> {
  try {
    const flags = parseFlags({ args: argv, options, strict: true, allowPositionals: false })
    if ((flags as { help?: boolean }).help === true) {
      io.stdout.write(help)
      return 0
    }
    return await body(flags)
  } catch (err) {
    if (!(err instanceof UsageError) && !(err instanceof TypeError)) throw err
    io.stderr.write(`fastify-zero-downtime-kit ${name}: ${err.message}\n\n${help}`)
    return 2
  }
}
