// app.zeroDowntime.on / once / off behave like an EventEmitter's, although
// every app listener is registered through a guard (so that a throwing one
// cannot break the drain): off removes the latest registration of a function,
// a once that fired is gone, and a once removed during an emit in progress
// (which EventEmitter still calls) leaves the other registrations alone; a
// listener added and removed is not kept alive by the handle.
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import t, { type Test } from 'tap'
import Fastify, { type FastifyInstance } from 'fastify'
import zeroDowntime, { type LifecycleState } from '../src/index.js'

async function build (t: Test): Promise<FastifyInstance> {
  const app = Fastify()
  await app.register(zeroDowntime, { startup: 'manual', pressure: false })
  await app.ready()
  t.teardown(async () => { await app.close() })
  return app
}

/** started() emits ready; the drain emits draining, closing and stopped. */
async function runLifecycle (app: FastifyInstance): Promise<void> {
  app.zeroDowntime.started()
  await app.zeroDowntime.drain('test', { delayMs: 0 })
}

t.test('off removes one registration at a time, the latest first; unknown listeners are ignored', async (t) => {
  const app = await build(t)
  const seen: string[] = []
  const twice = (state: unknown): void => { seen.push(`twice:${String(state)}`) }
  const removedOnce = (state: LifecycleState): void => { seen.push(`once:${state}`) }
  const zd = app.zeroDowntime
  t.equal(zd.on('state', twice).on('state', twice).once('state', removedOnce), zd, 'chainable')
  t.equal(zd.off('state', removedOnce), zd, 'a once removed before it fired')
  zd.off('state', twice)
  zd.off('check', twice)
  zd.off('state', () => {})
  zd.started()
  t.same(seen, ['twice:ready'], 'one of the two registrations left; a function never added for an event is ignored')
  zd.off('state', twice)
  zd.off('state', twice)
  await zd.drain('test', { delayMs: 0 })
  t.same(seen, ['twice:ready'], 'nothing left after the last off; one more off is ignored')
})

t.test('a once that fired is forgotten: off then removes the on registration of the same function', async (t) => {
  const app = await build(t)
  const seen: LifecycleState[] = []
  const listener = (state: LifecycleState): void => { seen.push(state) }
  app.zeroDowntime.once('state', listener).on('state', listener)
  app.zeroDowntime.started()
  t.same(seen, ['ready', 'ready'])
  app.zeroDowntime.off('state', listener)
  await app.zeroDowntime.drain('test', { delayMs: 0 })
  t.same(seen, ['ready', 'ready'], 'the on registration was removed, not the once that had already fired')
})

t.test('a once removed by another listener during the emit still fires, as with EventEmitter, and leaves the rest in place', async (t) => {
  const app = await build(t)
  const seen: LifecycleState[] = []
  const listener = (state: LifecycleState): void => { seen.push(state) }
  const zd = app.zeroDowntime
  zd.on('state', listener)
  zd.on('state', (state) => { if (state === 'ready') zd.off('state', listener) })
  zd.once('state', listener)
  zd.started()
  t.same(seen, ['ready', 'ready'], 'the removed once was called by the emit in progress')
  zd.off('state', listener)
  await zd.drain('test', { delayMs: 0 })
  t.same(seen, ['ready', 'ready'], 'the on registration was still known, and off removed it')
})

t.test('started() and the drain emit every state (what the tests above count on)', async (t) => {
  const app = await build(t)
  const seen: string[] = []
  app.zeroDowntime.on('state', (state, previous) => { seen.push(`${previous}->${state}`) })
  await runLifecycle(app)
  t.same(seen, ['starting->ready', 'ready->draining', 'draining->closing', 'closing->stopped'])
})

t.test('a listener added and removed is not held: the handle keeps no entry for it', async (t) => {
  const app = await build(t)
  // A full collection on demand, without starting the runner with --expose-gc.
  setFlagsFromString('--expose-gc')
  const gc = runInNewContext('gc') as () => void
  const added = (): WeakRef<object> => {
    const listener = (): void => {}
    app.zeroDowntime.on('state', listener).once('state', listener)
    app.zeroDowntime.off('state', listener).off('state', listener)
    return new WeakRef(listener)
  }
  const ref = added()
  // A WeakRef keeps its target until the current job ends.
  await new Promise((resolve) => { setImmediate(resolve) })
  gc()
  t.equal(ref.deref(), undefined, 'the listener was collected')
})
