/**
 * The one frame of every `fastify-zero-downtime-kit` command: its flags are
 * declared once, with their help, and both the strict parsing (node:util
 * parseArgs) and the `--help` text come from that declaration, so --help
 * lists every flag. Durations are given in seconds, always, in flags named
 * `--*-seconds` (the kit converts them to milliseconds once).
 */
import { parseArgs, type ParseArgsConfig } from 'node:util'
import type { Io } from '../report/output.js'

/** A mistake in how the command was called: the message and the help, exit 2. */
export class UsageError extends Error {}

/** One flag: how it parses and how --help shows it. */
export interface Flag {
  readonly type: 'string' | 'boolean'
  readonly short?: string
  readonly multiple?: boolean
  /** The parsed default, shown in --help too. */
  readonly default?: string | boolean
  /** What --help says the default is when it is not a fixed value (`the current directory`). */
  readonly shownDefault?: string
  /** The value's placeholder in --help: `<n>`, `<cmd>`. */
  readonly value?: string
  /** One or more lines; --help appends the default to the last. */
  readonly help: string
  /** The heading --help lists it under; flags keep their order. */
  readonly group?: string
}

export type Flags = Readonly<Record<string, Flag>>

export interface CommandSpec<F extends Flags> {
  readonly name: string
  /** What follows `fastify-zero-downtime-kit <name>` in the usage line. */
  readonly usage: string
  readonly description: string
  readonly flags: F
  /** Whether the command takes arguments besides its flags (lint's files). */
  readonly positionals?: boolean
  /** Lines after the flags: exit codes. */
  readonly footer?: string
}

/** Where a command reads and writes: the process's own streams unless a test passes others. */
export interface CommandIo extends Io {
  readonly stdin?: AsyncIterable<Buffer | string>
}

const HELP_FLAG = { type: 'boolean', short: 'h', help: 'show this help' } as const satisfies Flag

type Options<F extends Flags> = F & { readonly help: typeof HELP_FLAG }
export type FlagValues<F extends Flags> = ReturnType<typeof parseArgs<{ args: string[], options: Options<F>, strict: true, allowPositionals: true }>>['values']

const COLUMN = 37

function flagLabel (name: string, flag: Flag): string {
  const short = flag.short === undefined ? '' : `-${flag.short}, `
  return `  ${short}--${name}${flag.value === undefined ? '' : ` ${flag.value}`}`
}

function flagLines (name: string, flag: Flag): string[] {
  const shown = flag.shownDefault ?? (typeof flag.default === 'string' ? flag.default : undefined)
  const lines = flag.help.split('\n')
  if (shown !== undefined) lines[lines.length - 1] += ` (default ${shown})`
  const label = flagLabel(name, flag)
  const first = label.length < COLUMN ? `${label.padEnd(COLUMN)}${lines[0] as string}` : `${label}\n${' '.repeat(COLUMN)}${lines[0] as string}`
  return [first, ...lines.slice(1).map((l) => `${' '.repeat(COLUMN)}${l}`)]
}

/** The --help text: usage, what the command does, every flag under its group (-h last), the footer. */
export function helpText<F extends Flags> (spec: CommandSpec<F>): string {
  const groups = new Map<string, string[]>()
  for (const [name, flag] of Object.entries(spec.flags as Flags)) {
    const group = flag.group ?? 'options'
    groups.set(group, [...(groups.get(group) ?? []), ...flagLines(name, flag)])
  }
  const sections = [...groups].map(([group, lines]) => `${group}\n${lines.join('\n')}`)
  const footer = spec.footer === undefined ? '' : `\n${spec.footer}\n`
  return `usage: fastify-zero-downtime-kit ${spec.name} ${spec.usage}\n\n${spec.description}\n\n${sections.join('\n')}\n${flagLines('help', HELP_FLAG).join('\n')}\n${footer}`
}

/** The parseArgs options of a command: its flags without their help. */
function parseOptions (flags: Flags): NonNullable<ParseArgsConfig['options']> {
  return Object.fromEntries(Object.entries({ ...flags, help: HELP_FLAG } as Flags).map(([name, f]) => [name, {
    type: f.type,
    ...(f.short === undefined ? {} : { short: f.short }),
    ...(f.multiple === undefined ? {} : { multiple: f.multiple }),
    ...(f.default === undefined ? {} : { default: f.default })
  }]))
}

/**
 * Runs a command: parses `argv` strictly against its flags (a bad flag prints
 * the error and the help, exit 2), answers --help, then runs `body`, whose
 * UsageError or TypeError (a bad value) is reported the same way.
 */
export async function command<F extends Flags> (
  spec: CommandSpec<F>, io: CommandIo, argv: readonly string[],
  body: (flags: FlagValues<F>, positionals: readonly string[]) => Promise<number>
): Promise<number> {
  const help = helpText(spec)
  try {
    let parsed
    try {
      parsed = parseArgs({ args: [...argv], options: parseOptions(spec.flags), strict: true, allowPositionals: spec.positionals === true })
    } catch (err) {
      throw new UsageError((err as Error).message)
    }
    if (parsed.values.help === true) {
      io.stdout.write(help)
      return 0
    }
    return await body(parsed.values as FlagValues<F>, parsed.positionals)
  } catch (err) {
    if (!(err instanceof UsageError) && !(err instanceof TypeError)) throw err
    io.stderr.write(`fastify-zero-downtime-kit ${spec.name}: ${err.message}\n\n${help}`)
    return 2
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

/** A `--*-seconds` flag, in milliseconds. */
export function secondsFlag (name: `${string}-seconds`, raw: string): number {
  return Math.round(numberFlag(name, raw) * 1000)
}

/** Milliseconds as --help shows them: `1.5`, `30`. */
export const seconds = (ms: number): string => String(ms / 1000)

/** The largest seed: `seededRandom` keeps 32 bits, so a larger one would repeat a smaller one's sequence. */
const MAX_SEED = 2 ** 32 - 1

/** `--seed`: absent, or an integer in [0, 2^32); spread into a RunSpec. */
export function seedFlag (raw: string | undefined): { seed?: number } {
  if (raw === undefined) return {}
  const seed = numberFlag('seed', raw, { integer: true })
  if (seed > MAX_SEED) throw new UsageError(`--seed must be an integer from 0 to ${MAX_SEED}, got ${JSON.stringify(raw)}`)
  return { seed }
}
