/**
 * Validation shared by every part of the plugin's options (probes, load
 * shedding, drain, cleanups) and by the environment variables: one wording for
 * every TypeError, so a user reads the same "option "x" must be ..., got ..."
 * whichever part they got wrong, and ONE set of bounds for every number.
 *
 * Each helper throws one of the coded errors of errors.ts: FST_ZD_INVALID_OPTION
 * for a plugin option, FST_ZD_INVALID_ARGUMENT for an argument of a public
 * function, FST_ZD_UNKNOWN_OPTION, FST_ZD_INVALID_ENV.
 *
 * Every number that ends up in a timer is bounded by what a Node.js timer
 * accepts: a longer delay is not an error to Node, it fires after 1 ms, which
 * turns a 30-day grace period into an exit 7 ms after SIGTERM.
 */
import { types } from 'node:util'
import { errorCodes } from './errors.js'
import { describeError, scrub } from './scrub.js'

/** Largest delay a Node.js timer accepts; longer ones fire at once. */
export const MAX_TIMER_MS = 2 ** 31 - 1
/** The same bound in whole seconds, for values given in seconds (environment, `Retry-After`). */
export const MAX_TIMER_SECONDS = Math.floor(MAX_TIMER_MS / 1000)

const NONE: ReadonlySet<string> = new Set()
/** Longest piece of a user value (or key) quoted in a message. */
const MAX_QUOTED = 80

/**
 * A user's key or value in a message, scrubbed: the TypeError ends up in a
 * crash log, and a value given to the wrong option is as often a connection
 * string (`checkIntervalMs: process.env.DATABASE_URL`) as a typo.
 */
function quote (text: string): string {
  const clean = scrub(text)
  return JSON.stringify(clean.length > MAX_QUOTED ? `${clean.slice(0, MAX_QUOTED)}…` : clean)
}

/** What kind of object `value` is, for a message; never runs a trap of `value` (a Proxy), never throws. */
function describeObject (value: object): string {
  if (types.isProxy(value)) return 'a Proxy'
  if (Array.isArray(value)) return 'an array'
  if (types.isMap(value)) return 'a Map'
  if (types.isSet(value)) return 'a Set'
  if (types.isDate(value)) return 'a Date'
  if (types.isRegExp(value)) return 'a RegExp'
  if (types.isPromise(value)) return 'a Promise'
  if (types.isBoxedPrimitive(value)) return 'a boxed primitive'
  // No trap to run here: `value` itself is no Proxy (its prototype may be one).
  const proto = Object.getPrototypeOf(value) as object | null
  if (proto === null || proto === Object.prototype) return 'an object'
  try {
    // A class's prototype owns its constructor; a bare prototype object (Object.create({})) does not.
    const ctor = Object.hasOwn(proto, 'constructor') ? (proto as { constructor?: unknown }).constructor : undefined
    const name = typeof ctor === 'function' ? ctor.name : undefined
    if (typeof name === 'string' && name !== '') return `an instance of ${name.slice(0, MAX_QUOTED)}`
  } catch {
    // A prototype that is a Proxy whose traps throw, or a throwing `constructor` getter: still a custom prototype.
  }
  return 'an object with a custom prototype'
}

/** How a wrong value is shown in a message: never a function's source, never a whole object; never throws. */
export function describe (value: unknown): string {
  switch (typeof value) {
    case 'function': return 'a function'
    case 'string': return quote(value)
    case 'symbol': return 'a symbol'
    case 'bigint': return `${String(value)}n`
    case 'object': return value === null ? 'null' : describeObject(value)
    default: return String(value)
  }
}

/** A plugin option (or a `listen()` option) that is wrong: `option "x" must be ..., got ...`. */
export function invalid (option: string, expected: string, value: unknown): TypeError {
  return new errorCodes.FST_ZD_INVALID_OPTION(`option ${quote(option)} must be ${expected}, got ${describe(value)}`)
}

/** A plugin option refused for a reason that is not its type or range (a duplicate, a reserved name). */
export function refusedOption (sentence: string): TypeError {
  return new errorCodes.FST_ZD_INVALID_OPTION(sentence)
}

/** An argument of a public function that is wrong; `subject` names it, e.g. `addCleanup "pg" timeoutMs`. */
export function invalidArgument (subject: string, expected: string, value: unknown, show: (value: unknown) => string = describe): TypeError {
  return new errorCodes.FST_ZD_INVALID_ARGUMENT(`${subject} must be ${expected}, got ${show(value)}`)
}

/** Only the kind of a value, for arguments where a string is likely a connection URL with credentials. */
export function kindOf (value: unknown): string {
  return value === null ? 'null' : typeof value
}

function invalidEnv (name: string, expected: string, raw: string): TypeError {
  return new errorCodes.FST_ZD_INVALID_ENV(`environment variable ${name} must be ${expected}, got ${describe(raw)}`)
}

/** How a validator reports a wrong value: as an option or as a function argument. */
type Refuse = (subject: string, expected: string, value: unknown) => TypeError

/** An object literal, or one with a null prototype (`Object.create(null)`); never throws, even on a Proxy whose traps do. */
export function isPlainObject (value: unknown): value is Record<string, unknown> {
  try {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return false
    const proto = Object.getPrototypeOf(value) as unknown
    return proto === Object.prototype || proto === null
  } catch {
    return false
  }
}

/** Arrays and objects longer than this are not copied by `readOptions`: their resolver refuses them by size alone. */
const MAX_COPIED_ITEMS = 1000
/** How deep `readOptions` copies: the options are at most `checks.<name>.<setting>` deep. */
const MAX_COPIED_DEPTH = 4

function unreadable (option: string, err: unknown): TypeError {
  return new errorCodes.FST_ZD_INVALID_OPTION(`option ${quote(option)} could not be read (a getter or a Proxy trap threw: ${describeError(err)})`)
}

function child (option: string, key: string | number): string {
  return typeof key === 'number' ? `${option}[${key}]` : option === '' ? key : `${option}.${key}`
}

/**
 * The options as plain data, read once: every own enumerable string key of
 * every plain object (a null prototype included, frozen or not, a Proxy
 * through its traps) and every array, down to the depth options have;
 * anything else (functions, class instances such as a prom-client Registry)
 * by reference, for its resolver to use or refuse. Resolving from this copy,
 * a getter or a trap runs once and the config cannot change under the
 * resolver; one that throws becomes our TypeError naming the option. Symbol
 * keys are no options and are left out; an own `__proto__` key is kept as a
 * key (and refused as an unknown option), never followed as a prototype.
 */
export function readOptions (value: unknown, option = '', depth = 0): unknown {
  if (typeof value !== 'object' || value === null || depth > MAX_COPIED_DEPTH) return value
  const path = option === '' ? 'options' : option
  let keys: Array<string | number>
  try {
    if (Array.isArray(value)) {
      if (value.length > MAX_COPIED_ITEMS) return value
      keys = Array.from({ length: value.length }, (_, i) => i)
    } else {
      if (!isPlainObject(value)) return value
      keys = Object.keys(value)
      if (keys.length > MAX_COPIED_ITEMS) return value
    }
  } catch (err) {
    throw unreadable(path, err)
  }
  const read = (key: string | number): unknown => {
    try {
      return (value as Record<string | number, unknown>)[key]
    } catch (err) {
      throw unreadable(child(option, key), err)
    }
  }
  if (Array.isArray(value)) return keys.map((i) => readOptions(read(i), child(option, i), depth + 1))
  const copy: Record<string, unknown> = Object.create(null) as Record<string, unknown>
  for (const key of keys as string[]) {
    Object.defineProperty(copy, key, { value: readOptions(read(key), child(option, key), depth + 1), enumerable: true })
  }
  return copy
}

/** `tolerated`: keys that are not ours but must pass (those Fastify reads from the register options). */
export function rejectUnknownKeys (value: Record<string, unknown>, known: ReadonlySet<string>, prefix: string, tolerated: ReadonlySet<string> = NONE): void {
  for (const key of Object.keys(value)) {
    if (!known.has(key) && !tolerated.has(key)) {
      throw new errorCodes.FST_ZD_UNKNOWN_OPTION(`unknown option ${quote(prefix + key)} (known: ${[...known].join(', ')})`)
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

function duration (value: unknown, subject: string, allowZero: boolean, refuse: Refuse): number | undefined {
  if (value === undefined) return undefined
  const bounds = { allowZero, max: MAX_TIMER_MS, whole: false }
  if (!within(value, bounds)) throw refuse(subject, expectation(bounds, 'milliseconds'), value)
  return value
}

/** A duration in ms passed to a public function (`subject` names it): undefined when not given; zero only where `allowZero`. */
export function durationMs (value: unknown, subject: string, allowZero = false): number | undefined {
  return duration(value, subject, allowZero, invalidArgument)
}

/** A duration option in ms: undefined when not given; zero only where `allowZero`. */
export function milliseconds (value: unknown, option: string, allowZero = false): number | undefined {
  return duration(value, option, allowZero, invalid)
}

export function boolean (value: unknown, option: string, fallback: boolean): boolean {
  if (value === undefined) return fallback
  if (typeof value !== 'boolean') throw invalid(option, 'true or false', value)
  return value
}

export function oneOf<T extends string> (value: unknown, option: string, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback
  if (!allowed.includes(value as T)) throw invalid(option, `one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}`, value)
  return value as T
}

/** A callback passed to a public function (`subject` names it) or given as an option (`refuse = invalid`). */
export function callback<F extends (...args: never[]) => unknown> (value: unknown, subject: string, expected = 'a function', refuse: Refuse = invalidArgument): F {
  if (typeof value !== 'function') throw refuse(subject, expected, value)
  return value as F
}

/** A string argument with at least one non-blank character. */
export function nonEmptyString (value: unknown, subject: string, refuse: Refuse = invalidArgument): string {
  if (typeof value !== 'string' || value.trim() === '') throw refuse(subject, 'a non-empty string', value)
  return value
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
    throw invalidEnv(name, `${expectation(bounds, 'seconds')} in decimal digits`, raw)
  }
  return Math.round(seconds * 1000)
}
