/**
 * Validation shared by every part of the plugin's options (probes, load
 * shedding, drain, cleanups) and by the environment variables: one wording for
 * every TypeError, so a user reads the same "option "x" must be ..., got ..."
 * whichever part they got wrong, and ONE set of bounds for every number.
 *
 * Every number that ends up in a timer is bounded by what a Node.js timer
 * accepts: a longer delay is not an error to Node, it fires after 1 ms, which
 * turns a 30-day grace period into an exit 7 ms after SIGTERM.
 */

/** Largest delay a Node.js timer accepts; longer ones fire at once. */
export const MAX_TIMER_MS = 2 ** 31 - 1
/** The same bound in whole seconds, for values given in seconds (environment, `Retry-After`). */
export const MAX_TIMER_SECONDS = Math.floor(MAX_TIMER_MS / 1000)

const NONE: ReadonlySet<string> = new Set()
/** Longest piece of a user value (or key) quoted in a message. */
const MAX_QUOTED = 80

function quote (text: string): string {
  return JSON.stringify(text.length > MAX_QUOTED ? `${text.slice(0, MAX_QUOTED)}…` : text)
}

/** How a wrong value is shown in a message: never a function's source, never a whole object; never throws. */
export function describe (value: unknown): string {
  switch (typeof value) {
    case 'function': return 'a function'
    case 'string': return quote(value)
    case 'symbol': return 'a symbol'
    case 'bigint': return `${String(value)}n`
    case 'object': {
      if (value === null) return 'null'
      try {
        return Array.isArray(value) ? 'an array' : 'an object'
      } catch {
        // A revoked Proxy throws even on Array.isArray.
        return 'an object'
      }
    }
    default: return String(value)
  }
}

/** `subject` is what was wrong, e.g. `option "drain.delayMs"` or `environment variable X`. */
export function invalidValue (subject: string, expected: string, value: unknown): TypeError {
  return new TypeError(`fastify-zero-downtime: ${subject} must be ${expected}, got ${describe(value)}`)
}

export function invalid (option: string, expected: string, value: unknown): TypeError {
  return invalidValue(`option ${quote(option)}`, expected, value)
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
      throw new TypeError(`fastify-zero-downtime: unknown option ${quote(prefix + key)} (known: ${[...known].join(', ')})`)
    }
  }
}

interface Bounds {
  /** Whether the lower bound 0 itself is allowed (a delay that may be skipped). */
  readonly allowZero: boolean
  readonly max: number
  readonly whole: boolean
}

function within (value: unknown, { allowZero, max, whole }: Bounds): value is number {
  return typeof value === 'number' && Number.isFinite(value) && (allowZero ? value >= 0 : value > 0) && value <= max &&
    (!whole || Number.isInteger(value))
}

function expectation ({ allowZero, max, whole }: Bounds, unit: string): string {
  return `a ${allowZero ? 'non-negative' : 'positive'} ${whole ? 'whole ' : ''}number of ${unit} (at most ${max})`
}

/** A duration in ms given by `subject` (an option, an argument): undefined when not given; zero only where `allowZero`. */
export function durationMs (value: unknown, subject: string, allowZero = false): number | undefined {
  if (value === undefined) return undefined
  const bounds = { allowZero, max: MAX_TIMER_MS, whole: false }
  if (!within(value, bounds)) throw invalidValue(subject, expectation(bounds, 'milliseconds'), value)
  return value
}

/** A duration option in ms: undefined when not given; zero only where `allowZero`. */
export function milliseconds (value: unknown, option: string, allowZero = false): number | undefined {
  return durationMs(value, `option ${quote(option)}`, allowZero)
}

/** A whole number of seconds sent to clients (`Retry-After` only takes digits), at least 1. */
export function wholeSeconds (value: unknown, option: string): number {
  const bounds = { allowZero: false, max: MAX_TIMER_SECONDS, whole: true }
  if (!within(value, bounds)) throw invalid(option, expectation(bounds, 'seconds'), value)
  return value
}

/** A limit that may be turned off with `false` (0 means "no limit" downstream). */
export function limitOrFalse (value: unknown, option: string, fallback: number | false, max: number, unit: string): number {
  const v = value === undefined ? fallback : value
  if (v === false) return 0
  const bounds = { allowZero: false, max, whole: false }
  if (!within(v, bounds)) throw invalid(option, `${expectation(bounds, unit)} or false for no limit`, v)
  return v
}

/** Plain decimal digits, optionally with a fraction: no sign, exponent, hex, `Infinity`. */
const DECIMAL = /^\d{1,16}(?:\.\d{1,16})?$/

/**
 * Seconds written in an environment variable, in ms. Only decimal notation:
 * `Number()` would also read `"0x1E"` as 30 and `"1e9"` as a billion, neither
 * of which anyone writes in a pod spec on purpose.
 */
export function secondsFromEnv (raw: string, name: string, allowZero: boolean): number {
  const text = raw.trim()
  const seconds = Number(text)
  const bounds = { allowZero, max: MAX_TIMER_SECONDS, whole: false }
  if (!DECIMAL.test(text) || !within(seconds, bounds)) {
    throw invalidValue(`environment variable ${name}`, `${expectation(bounds, 'seconds')} in decimal digits`, raw)
  }
  return Math.round(seconds * 1000)
}
