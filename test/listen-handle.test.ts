// listen() in process, with the exit injected: the handle's close() runs the
// same drain as SIGTERM and reports through the one exit function.
import t from 'tap'
import Fastify from 'fastify'
import { listen } from '../src/index.js'
import { processOwnerOf } from '../src/process/owner.js'
import { drainApp } from './fixtures/drain/app.js'

t.test('close() drains and exits 0 through the injected exit', async (t) => {
  const { app, logs } = await drainApp()
  const codes: number[] = []
  let exited!: () => void
  const exitCalled = new Promise<void>((resolve) => { exited = resolve })
  const handle = await listen(app, { port: 0, host: '127.0.0.1', exit: (code) => { codes.push(code); exited() } })
  t.match(handle.address, /^http:\/\/127\.0\.0\.1:\d+$/)
  handle.close()
  handle.close()
  await exitCalled
  await new Promise((resolve) => setImmediate(resolve))
  t.same(codes, [0], 'exit is called once, with 0')
  t.match(logs.find((l) => l.drain === 'signal'), { reason: 'close() called' })
  t.match(logs.find((l) => l.drain === 'exit'), { exitCode: 0 })
  t.equal(app.zeroDowntime.state, 'stopped')
})

t.test('listen() checks its options and the plugin before listening', async (t) => {
  const bare = Fastify()
  await t.rejects(listen(bare, { exit: 1 as never }), { code: 'FST_ZD_INVALID_OPTION', message: 'fastify-zero-downtime: option "exit" must be a function (code) => void, got 1' })
  await t.rejects(listen(bare, { port: 0 }), { code: 'FST_ZD_PLUGIN_REQUIRED', message: /listen\(\) needs the plugin/ })
  t.equal(bare.server.listening, false)
})

t.test('a listen that fails rejects and leaves no signal handler behind', async (t) => {
  const { app: first } = await drainApp()
  await first.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(async () => { await first.close() })
  const port = (first.server.address() as { port: number }).port
  const { app } = await drainApp()
  const before = process.listenerCount('SIGTERM')
  await t.rejects(listen(app, { port, host: '127.0.0.1', exit: () => { t.fail('must not exit') } }), { code: 'EADDRINUSE' })
  t.equal(process.listenerCount('SIGTERM'), before)
})

t.test('a second listen() on the same app fails and leaves the first one owning the process', async (t) => {
  const { app } = await drainApp()
  const codes: string[] = []
  let exited!: () => void
  const exitCalled = new Promise<void>((resolve) => { exited = resolve })
  const handle = await listen(app, { port: 0, host: '127.0.0.1', exit: (code) => { codes.push(`first ${code}`); exited() } })
  const listeners = process.listenerCount('SIGTERM')
  await t.rejects(listen(app, { port: 0, host: '127.0.0.1', exit: (code) => { codes.push(`second ${code}`) } }), { code: 'FST_ERR_REOPENED_SERVER' })
  t.equal(process.listenerCount('SIGTERM'), listeners, 'the first listen() still listens for SIGTERM')
  handle.close()
  await exitCalled
  t.same(codes, ['first 0'], 'and still ends the process, through its own exit')
})

t.test('a start that fails while the drain runs leaves the process to the claim\'s exit', async (t) => {
  const { app } = await drainApp()
  await app.ready()
  let exited!: (code: number) => void
  const exitCode = new Promise<number>((resolve) => { exited = resolve })
  const claim = processOwnerOf(app)!.claim((code) => { exited(code) })
  claim.close()
  t.equal(claim.stopping, true)
  // What listen() does when its start fails: the drain already under way still ends through this exit.
  claim.release()
  t.equal(await exitCode, 0)
})
