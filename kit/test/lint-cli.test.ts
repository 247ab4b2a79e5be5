// `fastify-zero-downtime lint` as a user runs it: a real child process, files,
// directories and stdin, exit codes and both output formats.
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { run } from '../src/cli/lint.js'
import { LINT_DEFAULTS, RULES } from '../src/lint/index.js'
import { io } from './helpers/loadtest.js'

const root = join(import.meta.dirname, '..')
// k8s/ and the kustomize renderings belong to the repository (the plugin package).
const repo = join(root, '..')
const fixture = (name: string): string => join(root, 'test/fixtures/manifests', `${name}.yaml`)

/** The command in this process: the same code path, without a process start per case. */
async function lintHere (args: string[], stdin = ''): Promise<{ code: number | null, stdout: string, stderr: string }> {
  const o = io()
  const code = await run(args, { ...o, stdin: (async function * () { yield stdin })() })
  return { code, stdout: o.out(), stderr: o.err() }
}

/** The real binary entry point in a child process: exit code, stdin, stdout. */
async function cli (args: string[], stdin = ''): Promise<{ code: number | null, stdout: string, stderr: string }> {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'src/cli/index.ts'), 'lint', ...args], { cwd: repo, input: stdin, encoding: 'utf8' })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}

t.test('our k8s/ passes', async (t) => {
  const r = await cli(['k8s'])
  t.equal(r.code, 0, r.stderr)
  t.equal(r.stdout, 'no zero-downtime problem found\n')
})

t.test('errors exit 1; JSON lists every finding', async (t) => {
  const r = await lintHere(['--format', 'json', fixture('npm-start'), fixture('min-ready-seconds')])
  t.equal(r.code, 1)
  const out = JSON.parse(r.stdout)
  t.equal(out.errors, 1)
  t.equal(out.warnings, 1)
  t.same(out.findings.map((f: { rule: string }) => f.rule), ['npm-start', 'min-ready-seconds'])
  t.match(out.findings[0], { severity: 'error', file: fixture('npm-start'), object: 'store/Deployment/shop', line: Number, why: String, fix: String })
})

t.test('warnings alone exit 0; human output explains each finding', async (t) => {
  const r = await lintHere([fixture('min-ready-seconds')])
  t.equal(r.code, 0)
  t.match(r.stdout, /^warning min-ready-seconds {2}.*min-ready-seconds\.yaml:\d+\n {2}store\/Deployment\/shop {2}spec\.minReadySeconds\n {2}minReadySeconds is 0 \(the default\)\n {2}why: .+\n {2}fix: .+\n\n0 errors, 1 warning\n$/)
})

t.test('reads kustomize output from stdin', async (t) => {
  const rendered = readFileSync(join(repo, 'test/fixtures/kustomize/canary-istio.yaml'), 'utf8')
  t.equal((await cli(['-'], rendered)).code, 0)
  const broken = await cli(['-'], readFileSync(fixture('single-replica'), 'utf8') + '---\n' + readFileSync(fixture('npm-start'), 'utf8'))
  t.equal(broken.code, 1)
  t.match(broken.stdout, /error single-replica {2}-:\d+/)
  t.match(broken.stdout, /error npm-start {2}-:\d+/)
  t.match(broken.stdout, /2 errors, 0 warnings\n$/)
})

t.test('a kustomization directory is rendered; findings say through which', async (t) => {
  const dir = t.testdir({
    'kustomization.yaml': 'resources: [app.yaml]\nnamespace: shop\n',
    'app.yaml': readFileSync(fixture('single-replica'), 'utf8')
  })
  const r = await lintHere(['--format=json', dir])
  t.equal(r.code, 1)
  const [f] = JSON.parse(r.stdout).findings
  t.match(f, { rule: 'single-replica', file: join(dir, 'app.yaml'), via: dir, object: 'shop/Deployment/shop' })
  t.notOk('line' in f, 'no line once a transformer has been through the object')
  t.match((await lintHere([dir])).stdout, `(via ${dir})`)
})

t.test('options reach the rules', async (t) => {
  t.equal((await lintHere(['--disable', 'npm-start,min-ready-seconds', fixture('npm-start')])).code, 0)
  const r = await lintHere(['--request-timeout-seconds', '40', '--format', 'json', fixture('clean')])
  t.same(JSON.parse(r.stdout).findings.map((f: { rule: string }) => f.rule).sort(), ['grace-period-budget', 'proxy-timeout'])
})

t.test('--help and --rules', async (t) => {
  const help = await lintHere(['--help'])
  t.equal(help.code, 0)
  t.match(help.stdout, /^usage: fastify-zero-downtime-kit lint/)
  t.match(help.stdout, new RegExp(`--request-timeout-seconds <s> +the service's longest request \\(default ${LINT_DEFAULTS.requestTimeoutMs / 1000}\\)`), 'timings in seconds, defaults from the plugin')
  const rules = await lintHere(['--rules'])
  t.equal(rules.code, 0)
  for (const r of RULES) t.match(rules.stdout, `${r.meta.id} (${r.meta.severity})`)
})

t.test('bad usage and unreadable input exit 2 with a reason', async (t) => {
  const cases: Array<[string[], RegExp]> = [
    [[], /name at least one file, directory or -/],
    [['--format', 'xml', 'k8s'], /--format must be human or json, got "xml"/],
    [['--check-timeout-seconds', 'soon', 'k8s'], /--check-timeout-seconds must be a number >= 0, got "soon"/],
    [['--margin-seconds=', 'k8s'], /--margin-seconds must be a number >= 0, got ""/],
    [['--request-timeout-ms', '40000', 'k8s'], /Unknown option '--request-timeout-ms'/],
    [['--disable', 'no-such-rule', 'k8s'], /unknown rule "no-such-rule"/],
    [['--frobnicate', 'k8s'], /Unknown option '--frobnicate'/],
    [['does/not/exist.yaml'], /does\/not\/exist\.yaml: no such file or directory/],
    [['test/fixtures/kustomize', 'test/helpers'], /test\/helpers: no YAML file or kustomization found/]
  ]
  for (const [args, message] of cases) {
    const r = await lintHere(args)
    t.equal(r.code, 2, args.join(' '))
    t.match(r.stderr, message)
  }
  const yaml = await cli(['-'], 'kind: Deployment\nspec: [unclosed\n')
  t.equal(yaml.code, 2)
  t.match(yaml.stderr, /^fastify-zero-downtime-kit lint: -:\d+:\d+: invalid YAML: /)
})
