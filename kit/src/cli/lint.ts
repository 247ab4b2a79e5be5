/**
 * `fastify-zero-downtime-kit lint`: reports the Kubernetes manifest mistakes
 * that drop requests, comparing them with the service's timing (given in
 * seconds, like every duration of the kit; the rules take milliseconds).
 */
import { formatHuman, formatJson, lint, LINT_DEFAULTS, LintInputError, loadInputs, resolveLintOptions, RULES, type LintOptions } from '../lint/index.js'
import { command, secondsFlag, seconds, UsageError, type CommandIo, type CommandSpec, type Flags, type FlagValues } from './command.js'

/** Each timing flag and the lint option (ms) it sets; the defaults shown are the plugin's own. */
const TIMINGS = {
  'request-timeout-seconds': ['requestTimeoutMs', "the service's longest request"],
  'check-timeout-seconds': ['checkTimeoutMs', 'dependency check timeout behind readiness'],
  'cleanup-timeout-seconds': ['cleanupTimeoutMs', 'dependency cleanup after HTTP drained'],
  'margin-seconds': ['marginMs', 'kept free before SIGKILL'],
  'drain-delay-seconds': ['drainDelayMs', 'in-app delay when there is no preStop sleep'],
  'keep-alive-timeout-seconds': ['keepAliveTimeoutMs', 'server keep-alive timeout']
} as const satisfies Record<`${string}-seconds`, readonly [keyof LintOptions, string]>

type TimingFlag = keyof typeof TIMINGS

const timingFlags = Object.fromEntries(Object.entries(TIMINGS).map(([name, [key, help]]) => [name, {
  type: 'string', value: '<s>', help, shownDefault: seconds(LINT_DEFAULTS[key]), group: 'service timing, in seconds'
}])) as Record<TimingFlag, { readonly type: 'string', readonly value: '<s>', readonly help: string, readonly shownDefault: string, readonly group: string }>

export const LINT = {
  name: 'lint',
  usage: '[options] <file|dir|-> ...',
  description: `Reports Kubernetes manifest mistakes that drop requests during rollouts, drains
and evictions. Reads YAML files (multi-document), directories (a directory with
a kustomization.yaml is rendered with the built-in kustomize subset; others are
walked) and - for stdin, e.g. \`kustomize build k8s/overlays/canary | fastify-zero-downtime-kit lint -\`.`,
  positionals: true,
  flags: {
    format: { type: 'string', value: 'human|json', default: 'human', help: 'output format' },
    disable: { type: 'string', value: 'RULE[,RULE]', multiple: true, help: 'do not report these rules (repeatable)' },
    rules: { type: 'boolean', help: 'list the rules and exit' },
    ...timingFlags
  },
  footer: 'exit code: 0 no error (warnings allowed), 1 errors found, 2 bad usage or unreadable input.'
} as const satisfies CommandSpec<Flags>

async function readAll (stdin: AsyncIterable<Buffer | string>): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of stdin) chunks.push(Buffer.from(chunk))
  return Buffer.concat(chunks).toString('utf8')
}

/** The lint options the flags give, validated by the linter itself (a TypeError is a usage error). */
function lintOptions (f: FlagValues<typeof LINT.flags>): LintOptions {
  const input: Partial<Record<keyof LintOptions, unknown>> = {
    disable: (f.disable ?? []).flatMap((d) => d.split(',')).map((d) => d.trim()).filter((d) => d !== '')
  }
  for (const [flag, [key]] of Object.entries(TIMINGS)) {
    const raw = f[flag as TimingFlag]
    if (raw !== undefined) input[key] = secondsFlag(flag as TimingFlag, raw)
  }
  return resolveLintOptions(input as Partial<LintOptions>)
}

export async function run (argv: readonly string[], io: CommandIo & { readonly stdin: AsyncIterable<Buffer | string> } = process): Promise<number> {
  return await command(LINT, io, argv, async (f, files) => {
    if (f.rules === true) {
      io.stdout.write(RULES.map((r) => `${r.meta.id} (${r.meta.severity})\n  why: ${r.meta.why}\n  fix: ${r.meta.fix}\n`).join('\n'))
      return 0
    }
    if (f.format !== 'human' && f.format !== 'json') throw new UsageError(`--format must be human or json, got ${JSON.stringify(f.format)}`)
    if (files.length === 0) throw new UsageError('name at least one file, directory or - (stdin)')
    const options = lintOptions(f)
    let units
    try {
      units = await loadInputs(files, async () => await readAll(io.stdin))
    } catch (err) {
      if (!(err instanceof LintInputError)) throw err
      io.stderr.write(`fastify-zero-downtime-kit lint: ${err.message}\n`)
      return 2
    }
    const findings = lint(units, options)
    io.stdout.write(f.format === 'json' ? formatJson(findings) : formatHuman(findings))
    return findings.some((x) => x.severity === 'error') ? 1 : 0
  })
}
