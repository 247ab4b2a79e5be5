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

/** Runs a command body, printing usage errors as such (exit 2). */
export async function withUsage (name: string, help: string, stderr: NodeJS.WritableStream, body: () => Promise<number>): Promise<number> {
  try {
    return await body()
  } catch (err) {
    if (!(err instanceof UsageError) && !(err instanceof TypeError)) throw err
    stderr.write(`fastify-zero-downtime ${name}: ${err.message}\n\n${help}`)
    return 2
  }
}
