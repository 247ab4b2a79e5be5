// `fastify-zero-downtime-kit` as a user runs it: the entry point in a real
// child process, its exit codes and where each message goes; and the parts of
// the command frame only unusual input reaches (a long flag in --help, a
// failure that is not about usage).
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import t from 'tap'
import { helpText, type CommandSpec, type Flags } from '../src/cli/command.js'
import { run as lint } from '../src/cli/lint.js'
import { io } from './helpers/loadtest.js'

const root = join(import.meta.dirname, '..')

/** The binary's entry point, run through tsx as the tests run every source. */
function kit (args: string[], cwd = root): { code: number | null, stdout: string, stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'src/cli/index.ts'), ...args], { cwd, encoding: 'utf8' })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}

// Each case is a process start (a few seconds through tsx on a busy machine): as few as cover the entry point.
t.test('no command: the usage on stdout, exit 2; --help: the same usage, exit 0', async (t) => {
  const none = kit([])
  t.equal(none.code, 2)
  t.match(none.stdout, /^usage: fastify-zero-downtime-kit <command> \[options\]\n\ncommands:\n {2}rollout {2}.+\n {2}check {4}.+\n {2}lint {5}.+\n\nRun a command with --help for its options\.\n$/)
  t.equal(none.stderr, '')
  const help = kit(['--help'])
  t.equal(help.code, 0)
  t.equal(help.stdout, none.stdout, '--help prints the usage')
})

t.test('an unknown command: named on stderr with the usage, exit 2, nothing on stdout', async (t) => {
  const r = kit(['deploy'])
  t.equal(r.code, 2)
  t.match(r.stderr, /^fastify-zero-downtime-kit: unknown command "deploy"\n\nusage: fastify-zero-downtime-kit <command>/)
  t.equal(r.stdout, '')
})

t.test('a command is reached with the rest of the arguments, and its exit code is the process\'s', async (t) => {
  const bad = kit(['check', '--url'])
  t.equal(bad.code, 2, 'a usage error of the command')
  t.match(bad.stderr, /^fastify-zero-downtime-kit check: Option '--url <value>' argument missing\n\nusage: fastify-zero-downtime-kit check /)
  t.equal(bad.stdout, '')
})

t.test('a failure no command handles: exit 1, its stack and code on stderr', async (t) => {
  const dir = t.testdir({ 'a-file': 'not a directory' })
  // The report directory is created before any load runs; a path under a regular file can never be one.
  const r = kit(['rollout', '--command', 'node server.js', '--no-baseline', '--scenarios', 'hot-loop', '--out', join(dir, 'a-file', 'report')])
  t.equal(r.code, 1)
  t.match(r.stderr, /^fastify-zero-downtime-kit: Error: (ENOTDIR|EEXIST)[^\n]*a-file/)
  t.match(r.stderr, /\n {4}at /, 'with its stack')
  t.match(r.stderr, /code: '(ENOTDIR|EEXIST)'/, 'and its properties')
  t.equal(r.stdout, '', 'no run started')
})

t.test('--help puts the help of a flag too long for the column on the next line', async (t) => {
  const spec = {
    name: 'x',
    usage: '[options]',
    description: 'd',
    flags: {
      short: { type: 'string', value: '<s>', help: 'fits' },
      'a-flag-whose-name-is-long-enough': { type: 'string', value: '<value>', help: 'first line\nsecond line', default: '3' }
    }
  } as const satisfies CommandSpec<Flags>
  const lines = helpText(spec).split('\n')
  const at = lines.indexOf('  --a-flag-whose-name-is-long-enough <value>')
  t.ok(at > 0, 'the flag alone on its line')
  t.equal(lines[at + 1], `${' '.repeat(37)}first line`, 'its help below, in the help column')
  t.equal(lines[at + 2], `${' '.repeat(37)}second line (default 3)`)
  t.ok(lines.includes(`${'  --short <s>'.padEnd(37)}fits`), 'a short one keeps its help on the same line')
})

t.test('lint: a failure reading the input that is not about the input is not turned into a usage error', async (t) => {
  const o = io()
  const stdin = (async function * () {
    yield 'kind: Deployment\n'
    throw new Error('stdin broke')
  })()
  await t.rejects(lint(['-'], { ...o, stdin }), /stdin broke/)
  t.equal(o.err(), '', 'no usage message for it')
})
