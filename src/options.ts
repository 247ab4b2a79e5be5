/**
 * Validation shared by every part of the plugin's options (probes, load
 * shedding, drain): one wording for every TypeError, so a user reads the same
 * "option "x" must be ..., got ..." whichever part they got wrong.
 */

/** Largest delay a Node.js timer accepts; longer ones fire at once. */
export const MAX_TIMER_MS = 2 ** 31 - 1

const NONE: ReadonlySet<string> = new Set()

/** How a wrong value is shown in a message: never a function's source, never a whole object. */
export function describe (value: unknown): string {
  if (typeof value === 'function') return 'a function'
  if (Array.isArray(value)) return 'an array'
  if (value === null) return 'null'
  if (typeof value === 'object') return 'an object'
  if (typeof value === 'string') return JSON.stringify(value)
  return String(value)
}

export function invalid (option: string, expected: string, value: unknown): TypeError {
  return new TypeError(`fastify-zero-downtime: option "${option}" must be ${expected}, got ${describe(value)}`)
}

export function isPlainObject (value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false
  const proto = Object.getPrototypeOf(value) as unknown
  return proto === Object.prototype || proto === null
}

/** `tolerated`: keys that are not ours but must pass (those Fastify reads from the register options). */
export function rejectUnknownKeys (value: Record<string, unknown>, known: ReadonlySet<string>, prefix: string, tolerated: ReadonlySet<string> = NONE): void {
  for (const key of Object.keys(value)) {
    if (!known.has(key) && !tolerated.has(key)) {
      throw new TypeError(`fastify-zero-downtime: unknown option "${prefix}${key}" (known: ${[...known].join(', ')})`)
    }
  }
}

/** A duration option: undefined when not given; zero only where `allowZero` (a delay that may be skipped). */
export function milliseconds (value: unknown, option: string, allowZero = false): number | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || (!allowZero && value === 0) || value > MAX_TIMER_MS) {
    throw invalid(option, `${allowZero ? 'a non-negative' : 'a positive'} number of milliseconds (at most ${MAX_TIMER_MS})`, value)
  }
  return value
}
