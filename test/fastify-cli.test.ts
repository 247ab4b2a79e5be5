// `fastify start` (fastify-cli) of the plugin-style example app: fastify-cli
// closes it on SIGTERM through close-with-grace and app.close(), and the
// plugin drains from there without a drop. Its default close grace delay
// (500 ms) would kill the drain: the plugin warns at startup.
import { once } from 'node:events'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { resolveDrainConfig } from '../src/drain/index.js'
import { fastifyStartCloseGraceDelayMs, warnShortCloseGraceDelay } from '../src/process/fastify-cli.js'
import { spawnPod } from './fixtures/drain/harness.js'
import { assertNothingDropped, drainUnderTraffic } from './fixtures/drain/traffic.js'

const CLI = createRequire(import.meta.url).resolve('fastify-cli/cli.js')
const APP = fileURLToPath(new URL('../examples/fastify-cli/app.ts', import.meta.url))
const POD_ENV = { PORT: '0', PRESTOP_SLEEP_SECONDS: '0', TERMINATION_GRACE_PERIOD_SECONDS: '30' }

function start (...flags: string[]): string[] {
  return [CLI, 'start', '--log-level', 'info', '--address', '127.0.0.1', '--options', ...flags, APP]
}

t.test('fastify start with a long enough --close-grace-delay: SIGTERM drains without a drop', async (t) => {
  const pod = await spawnPod(POD_ENV, start('--close-grace-delay', '29000'))
  t.teardown(() => { pod.kill('SIGKILL') })
  const result = await drainUnderTraffic(t, pod)
  assertNothingDropped(t, result)
  t.equal(result.exit.code, 0, 'close-with-grace exits 0 once app.close() has resolved')
  t.match(pod.logs.find((l) => l.drain === 'signal'), { reason: 'SIGTERM', delayMs: 5000 }, 'drained like SIGTERM: no preStop, so the 5 s delay')
  t.match(pod.logs.find((l) => l.drain === 'stopped'), { clean: true, connections: { forced: 0 } })
  t.notOk(pod.stderr.some((l) => l.includes('FastifyZeroDowntimeWarning')), 'no warning')
})

t.test('fastify start with its default close grace delay warns at startup, naming the flag and the value', async (t) => {
  const pod = await spawnPod(POD_ENV, start())
  t.teardown(() => { pod.kill('SIGKILL') })
  const warned = (): string | undefined => pod.stderr.find((l) => l.includes('FastifyZeroDowntimeWarning'))
  // stderr is a pipe of its own: the warning may arrive after the listening line.
  while (warned() === undefined && pod.child.exitCode === null) await Promise.race([once(pod.child.stderr!, 'data'), pod.exited])
  const warning = warned() ?? ''
  t.match(warning, /\[FST_ZD_CLOSE_GRACE_DELAY\] FastifyZeroDowntimeWarning: fastify start exits 500 ms after SIGTERM \(--close-grace-delay\), but the drain may take up to 28000 ms/)
  t.match(warning, /Start it with --close-grace-delay 29000 \(or FASTIFY_CLOSE_GRACE_DELAY=29000\)/)
})

t.test('the close grace delay is read back from fastify-cli\'s own command line, and only there', async (t) => {
  const cli = (args: string[], execArgv: string[] = []): { argv: string[], execArgv: string[], read: () => string[] } =>
    ({ argv: [process.execPath, CLI], execArgv, read: () => [process.execPath, ...execArgv, CLI, ...args] })
  t.equal(fastifyStartCloseGraceDelayMs(cli(['start', 'app.js'])), 500, 'fastify-cli\'s default')
  t.equal(fastifyStartCloseGraceDelayMs(cli(['start', '-g', '25000', 'app.js'], ['--import', 'tsx'])), 25000)
  t.equal(fastifyStartCloseGraceDelayMs(cli(['print-routes', 'app.js'])), undefined, 'not a start')
  t.equal(fastifyStartCloseGraceDelayMs({ argv: process.argv, execArgv: [], read: () => ['node', ...process.argv.slice(1)] }), undefined, 'not fastify-cli')
  t.equal(fastifyStartCloseGraceDelayMs({ argv: ['node'], execArgv: [], read: () => ['node'] }), undefined, 'no script at all (node -e, a REPL)')
  t.equal(fastifyStartCloseGraceDelayMs({ argv: [process.execPath, CLI], execArgv: [], read: () => { throw new Error('no /proc/self/cmdline') } }), undefined,
    'a platform without /proc: the delay stays unknown')
  t.type(fastifyStartCloseGraceDelayMs(), 'undefined', 'this test process')
})

t.test('the warning is only given when the delay is shorter than the drain', async (t) => {
  const warnings: Error[] = []
  const onWarning = (w: Error): void => { warnings.push(w) }
  process.on('warning', onWarning)
  t.teardown(() => { process.off('warning', onWarning) })
  const config = resolveDrainConfig({}, { TERMINATION_GRACE_PERIOD_SECONDS: '30', PRESTOP_SLEEP_SECONDS: '5' })
  warnShortCloseGraceDelay(config, 23000)
  warnShortCloseGraceDelay(config, undefined)
  warnShortCloseGraceDelay(config, 22999)
  await new Promise((resolve) => setImmediate(resolve))
  t.equal(warnings.length, 1)
  t.match(warnings[0], { name: 'FastifyZeroDowntimeWarning', code: 'FST_ZD_CLOSE_GRACE_DELAY', message: /exits 22999 ms after SIGTERM .* up to 23000 ms .* --close-grace-delay 24000/ })
})
