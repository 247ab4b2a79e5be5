// A boot that fails after the plugin registered (a later plugin throws, an
// onReady hook rejects, the listen fails) leaves no signal listener behind:
// issue 27 found that after two failed boots one SIGTERM ran three drains.
// The plugin listens while the startup checks run (a SIGTERM then still
// stops the start, see signals-owner.test.ts) and from the listen on; a
// listen retried on the same app gets its listeners back.
import { once } from 'node:events'
import net from 'node:net'
import { fileURLToPath } from 'node:url'
import t, { type Test } from 'tap'
import Fastify from 'fastify'
import zeroDowntime from '../src/index.js'
import { launchPod } from './fixtures/drain/harness.js'

const FIXTURE = fileURLToPath(new URL('./fixtures/process/failed-boots.ts', import.meta.url))
const FAILED_BOOTS = 'plugin-throws,onready-rejects,listen-fails,plugin-throws,onready-rejects,listen-fails'

const counts = (): number[] => ['SIGTERM', 'SIGINT', 'removeListener'].map((e) => process.listenerCount(e))

async function usedPort (t: Test): Promise<number> {
  const server = net.createServer().listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => { server.close() })
  return (server.address() as net.AddressInfo).port
}

t.test('in process: each kind of failed boot leaves the process listeners as they were', async (t) => {
  const before = counts()
  const plugin = { pressure: false as const }
  const throws = Fastify({ logger: false })
  await throws.register(zeroDowntime, plugin)
  throws.register(async () => { throw new Error('a later plugin failed') })
  await t.rejects(async () => { await throws.ready() }, /a later plugin failed/)
  t.same(counts(), before, 'a later plugin threw')

  const rejects = Fastify({ logger: false })
  await rejects.register(zeroDowntime, plugin)
  rejects.addHook('onReady', async () => { throw new Error('an onReady hook failed') })
  await t.rejects(async () => { await rejects.ready() }, /an onReady hook failed/)
  t.same(counts(), before, 'a later onReady hook rejected')

  const port = await usedPort(t)
  const fails = Fastify({ logger: false })
  await fails.register(zeroDowntime, plugin)
  await t.rejects(fails.listen({ port, host: '127.0.0.1' }), { code: 'EADDRINUSE' })
  t.same(counts(), before, 'the listen failed')
  // The same app, listening again on a free port: its listeners are back.
  await fails.listen({ port: 0, host: '127.0.0.1' })
  t.same(counts(), [before[0]! + 1, before[1]! + 1, before[2]! + 1], 'a retried listen that succeeds gets them back')
  await fails.close()
  t.same(counts(), before, 'and gives them up on close')
})

t.test('in process: listening while the startup checks run and from the listen on, not in between', async (t) => {
  const before = counts()
  let duringChecks: number[] = []
  const app = Fastify({ logger: false })
  await app.register(zeroDowntime, { pressure: false, checks: { startup: () => { duringChecks = counts() } } })
  await app.ready()
  t.same(duringChecks, [before[0]! + 1, before[1]! + 1, before[2]! + 1], 'while the startup checks ran: a signal stops the start')
  t.same(counts(), before, 'ready, not listening: the boot may still fail')
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.same(counts(), [before[0]! + 1, before[1]! + 1, before[2]! + 1], 'listening')
  await app.close()
  t.same(counts(), before, 'closed')
})

t.test('in process: the same when the plugin is registered in an encapsulated context, as `fastify start` does', async (t) => {
  const before = counts()
  // A short pluginTimeout: an onReady hook that waited on the boot itself would fail the ready at once.
  const app = Fastify({ logger: false, pluginTimeout: 200 })
  await app.register(async (child) => { await child.register(zeroDowntime, { pressure: false }) })
  await app.ready()
  t.same(counts(), before, 'ready, not listening')
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.same(counts(), [before[0]! + 1, before[1]! + 1, before[2]! + 1], 'listening')
  await app.close()
  t.same(counts(), before, 'closed')
})

t.test('several failed boots in one process, then one that starts: SIGTERM runs exactly one drain', async (t) => {
  const pod = launchPod({ BOOTS: FAILED_BOOTS, GOOD: '1' }, [FIXTURE])
  t.teardown(() => { pod.kill('SIGKILL') })
  await pod.waitForLog((l) => l.app === 'good' && l.msg.startsWith('Server listening at'))
  t.equal(pod.logs.filter((l) => / failed: /.test(l.msg)).length, 6, 'six boots failed')
  pod.kill('SIGTERM')
  const exit = await pod.exited
  t.same([exit.code, exit.signal], [null, 'SIGTERM'], 'the good app ended the process by the signal')
  t.same(pod.logs.filter((l) => l.drain === 'signal').map((l) => l.app), ['good'], 'one drain, the good app\'s')
})

t.test('several failed boots and no app left: SIGTERM runs no drain and kills the process as without the plugin', async (t) => {
  const pod = launchPod({ BOOTS: FAILED_BOOTS }, [FIXTURE])
  t.teardown(() => { pod.kill('SIGKILL') })
  await pod.waitForLog((l) => l.msg === 'no app left running')
  pod.kill('SIGTERM')
  const exit = await pod.exited
  t.same([exit.code, exit.signal], [null, 'SIGTERM'])
  t.same(pod.logs.filter((l) => l.drain !== undefined), [], 'no drain ran')
})

t.test('a failed listen of the server itself, which nobody handles, is still thrown', async (t) => {
  const pod = launchPod({ BOOTS: 'server-listen-fails' }, [FIXTURE])
  t.teardown(() => { pod.kill('SIGKILL') })
  const exit = await pod.exited
  t.equal(exit.code, 1, 'an uncaught error, as without the plugin')
  t.match(pod.stderr.join('\n'), /EADDRINUSE/)
})
