// The one CLI frame of rollout, check and lint: each command's --help lists
// every flag it parses, every duration is a `--*-seconds` flag, and a bad flag
// is a usage error (exit 2) with the help, whichever the command.
import t from 'tap'
import { CHECK, check } from '../src/cli/check.js'
import { command, helpText, secondsFlag, type CommandSpec, type Flags } from '../src/cli/command.js'
import { LINT, run as lint } from '../src/cli/lint.js'
import { ROLLOUT, rollout } from '../src/cli/rollout.js'
import { io } from './helpers/loadtest.js'

const COMMANDS: Array<[CommandSpec<Flags>, (argv: string[], o: ReturnType<typeof io>) => Promise<number>]> = [
  [ROLLOUT, rollout],
  [CHECK, check],
  [LINT, async (argv, o) => await lint(argv, { ...o, stdin: (async function * () {})() })]
]

t.test('--help of each command lists every flag it takes, and -h', async (t) => {
  for (const [spec, runIt] of COMMANDS) {
    const o = io()
    t.equal(await runIt(['--help'], o), 0)
    t.equal(o.out(), helpText(spec), `${spec.name}: --help prints the help`)
    t.match(o.out(), new RegExp(`^usage: fastify-zero-downtime-kit ${spec.name} `))
    for (const name of [...Object.keys(spec.flags), 'help']) t.match(o.out(), new RegExp(`^ {2}(-h, )?--${name}\\b`, 'm'), `${spec.name} --help lists --${name}`)
    const short = io()
    t.equal(await runIt(['-h'], short), 0)
    t.equal(short.out(), o.out())
  }
})

t.test('every duration is given in seconds: no flag in milliseconds', async (t) => {
  for (const [spec] of COMMANDS) {
    for (const name of Object.keys(spec.flags)) t.notMatch(name, /(-ms|millis)/, `${spec.name} --${name}`)
  }
  t.same(Object.keys(LINT.flags).filter((n) => n.endsWith('-seconds')).length, 6, 'lint takes the six service timings in seconds')
  t.equal(secondsFlag('grace-seconds', '1.5'), 1500)
  t.equal(secondsFlag('grace-seconds', '0.0004'), 0, 'rounded to the millisecond')
  t.throws(() => secondsFlag('grace-seconds', '-1'), /--grace-seconds must be a number >= 0, got "-1"/)
})

t.test('a bad flag is a usage error with the help, exit 2, in every command', async (t) => {
  for (const [spec, runIt] of COMMANDS) {
    const o = io()
    t.equal(await runIt(['--frobnicate'], o), 2)
    t.match(o.err(), new RegExp(`^fastify-zero-downtime-kit ${spec.name}: Unknown option '--frobnicate'`))
    t.match(o.err(), /usage: /)
    t.equal(o.out(), '')
  }
})

t.test('an error that is not about usage is not swallowed', async (t) => {
  const spec = { name: 'x', usage: '', description: 'd', flags: {} } as const satisfies CommandSpec<Flags>
  await t.rejects(command(spec, io(), [], async () => { throw new Error('boom') }), /boom/)
  t.equal(await command(spec, io(), ['a'], async () => 0), 2, 'no positionals unless the command takes them')
  t.notMatch(helpText(spec), /exit code/, 'no footer unless given')
})
