import { parseArgs } from 'node:util'
import { formatHuman, formatJson, lint, LINT_DEFAULTS, LintInputError, loadInputs, resolveLintOptions, RULES } from '../lint/index.js'

// Defaults shown from LINT_DEFAULTS, which takes them from the plugin's own config.
const USAGE = `usage: fastify-zero-downtime-kit lint [options] <file|dir|-> ...

Reports Kubernetes manifest mistakes that drop requests during rollouts, drains
and evictions. Reads YAML files (multi-document), directories (a directory with
a kustomization.yaml is rendered with the built-in kustomize subset; others are
walked) and - for stdin, e.g. \`kustomize build k8s/overlays/canary | fastify-zero-downtime-kit lint -\`.

options:
  --format human|json          output format (default human)
  --request-timeout-ms N       the service's longest request (default ${LINT_DEFAULTS.requestTimeoutMs})
  --check-timeout-ms N         dependency check timeout behind readiness (default ${LINT_DEFAULTS.checkTimeoutMs})
  --cleanup-timeout-ms N       dependency cleanup after HTTP drained (default ${LINT_DEFAULTS.cleanupTimeoutMs})
  --margin-ms N                kept free before SIGKILL (default ${LINT_DEFAULTS.marginMs})
  --drain-delay-ms N           in-app delay when there is no preStop sleep (default ${LINT_DEFAULTS.drainDelayMs})
  --keep-alive-timeout-ms N    server keep-alive timeout (default ${LINT_DEFAULTS.keepAliveTimeoutMs})
  --disable RULE[,RULE]        do not report these rules
  --rules                      list the rules and exit
  -h, --help                   show this help

exit code: 0 no error (warnings allowed), 1 errors found, 2 bad usage or unreadable input.
`

const DURATIONS = {
  'request-timeout-ms': 'requestTimeoutMs',
  'check-timeout-ms': 'checkTimeoutMs',
  'cleanup-timeout-ms': 'cleanupTimeoutMs',
  'margin-ms': 'marginMs',
  'drain-delay-ms': 'drainDelayMs',
  'keep-alive-timeout-ms': 'keepAliveTimeoutMs'
} as const

/** Where the command reads and writes; the process's own streams unless a test passes others. */
export interface LintIO {
  readonly stdin: AsyncIterable<Buffer | string>
  readonly stdout: { write: (text: string) => unknown }
  readonly stderr: { write: (text: string) => unknown }
}

export async function run (argv: string[], io: LintIO = process): Promise<number> {
  const readStdin = async (): Promise<string> => {
    const chunks: Buffer[] = []
    for await (const chunk of io.stdin) chunks.push(Buffer.from(chunk))
    return Buffer.concat(chunks).toString('utf8')
  }
  const usageError = (message: string): number => {
    io.stderr.write(`fastify-zero-downtime-kit lint: ${message}\n\n${USAGE}`)
    return 2
  }

  let parsed
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        format: { type: 'string', default: 'human' },
        disable: { type: 'string', multiple: true },
        rules: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
        ...Object.fromEntries(Object.keys(DURATIONS).map((k) => [k, { type: 'string' as const }]))
      }
    })
  } catch (err) {
    return usageError((err as Error).message)
  }
  const { values, positionals } = parsed
  if (values.help === true) {
    io.stdout.write(USAGE)
    return 0
  }
  if (values.rules === true) {
    io.stdout.write(RULES.map((r) => `${r.meta.id} (${r.meta.severity})\n  why: ${r.meta.why}\n  fix: ${r.meta.fix}\n`).join('\n'))
    return 0
  }
  if (values.format !== 'human' && values.format !== 'json') return usageError(`--format must be human or json, got ${JSON.stringify(values.format)}`)
  if (positionals.length === 0) return usageError('name at least one file, directory or - (stdin)')

  const input: Record<string, unknown> = {
    disable: (values.disable ?? []).flatMap((d) => String(d).split(',')).map((d) => d.trim()).filter((d) => d !== '')
  }
  for (const [flag, key] of Object.entries(DURATIONS)) {
    const raw = (values as Record<string, unknown>)[flag]
    if (typeof raw === 'string') input[key] = raw.trim() === '' ? Number.NaN : Number(raw)
  }
  let options
  try {
    options = resolveLintOptions(input)
  } catch (err) {
    return usageError((err as Error).message)
  }

  let units
  try {
    units = await loadInputs(positionals, readStdin)
  } catch (err) {
    if (!(err instanceof LintInputError)) throw err
    io.stderr.write(`fastify-zero-downtime-kit lint: ${err.message}\n`)
    return 2
  }
  const findings = lint(units, options)
  io.stdout.write(values.format === 'json' ? formatJson(findings) : formatHuman(findings))
  return findings.some((f) => f.severity === 'error') ? 1 : 0
}
