// Who else listens for a signal, as the process owner sees it from inside
// the signal's own emit, in process: a once-listener the emit has already
// called still counts, a listener removed before the signal does not, and
// neither the plugin's own listeners nor signal-exit's are owners. SIGUSR2,
// for which only tap's signal-exit listens here, emitted directly (with the
// probe registered, signal-exit is not alone and does nothing).
import { setImmediate as nextTask } from 'node:timers/promises'
import t from 'tap'
import { otherOwnerNow, SignalWitness, type OwnerListener } from '../src/process/signal-listeners.js'
import { kSignalExitV4, kSignalOwner } from '../src/process/symbols.js'

const SIGNAL = 'SIGUSR2'

/** Emits SIGNAL with `probe` registered after `setUp`'s listeners; returns what the probe saw. */
function seenAtSignal (witness: SignalWitness): boolean {
  let seen: boolean | undefined
  const probe: OwnerListener = () => { seen = witness.otherOwnerAtSignal(SIGNAL) }
  probe[kSignalOwner] = { draining: () => false }
  process.on(SIGNAL, probe)
  process.emit(SIGNAL as never)
  process.removeListener(SIGNAL, probe)
  return seen!
}

t.test('a once-listener the emit already called still counts as an owner', async (t) => {
  const witness = new SignalWitness([SIGNAL])
  witness.watch()
  t.teardown(() => { witness.unwatch() })
  for (const add of ['once', 'prependOnceListener'] as const) {
    let called = 0
    process[add](SIGNAL, () => { called++ })
    t.equal(seenAtSignal(witness), true, `${add}: seen though it removed itself`)
    t.equal(called, 1)
    await nextTask()
    t.equal(seenAtSignal(witness), false, `${add}: gone at the next signal`)
  }
})

t.test('a listener removed before the signal does not count; one still there does', async (t) => {
  const watchers = process.listenerCount('removeListener')
  const witness = new SignalWitness([SIGNAL])
  witness.watch()
  witness.watch()
  t.equal(process.listenerCount('removeListener'), watchers + 1, 'watches once however often asked')
  t.teardown(() => { witness.unwatch() })
  const handler = (): void => {}
  process.on(SIGNAL, handler)
  t.equal(seenAtSignal(witness), true, 'registered')
  process.removeListener(SIGNAL, handler)
  await nextTask()
  t.equal(seenAtSignal(witness), false, 'removed in an earlier task')
})

t.test('neither the plugin\'s listeners nor signal-exit\'s are owners', async (t) => {
  t.equal(otherOwnerNow(SIGNAL), false, 'tap\'s own signal-exit listener')
  const plugin: OwnerListener = () => {}
  plugin[kSignalOwner] = { draining: () => false }
  process.on(SIGNAL, plugin)
  t.teardown(() => { process.removeListener(SIGNAL, plugin) })
  t.equal(otherOwnerNow(SIGNAL), false, 'a plugin\'s listener')
  const other = (): void => {}
  process.on(SIGNAL, other)
  t.teardown(() => { process.removeListener(SIGNAL, other) })
  t.equal(otherOwnerNow(SIGNAL), true, 'any other listener')
  // signal-exit counts its loaded instances (v4 on a global, v3 on process), each listening once per signal.
  const v4 = (globalThis as Record<symbol, { count: number }>)[kSignalExitV4]!
  v4.count++
  t.equal(otherOwnerNow(SIGNAL), false, 'one more signal-exit v4 instance would account for it')
  v4.count--
  const v3 = process as { __signal_exit_emitter__?: { count: number } }
  v3.__signal_exit_emitter__ = { count: 1 }
  t.equal(otherOwnerNow(SIGNAL), false, 'so would a signal-exit v3 instance')
  delete v3.__signal_exit_emitter__
  t.equal(otherOwnerNow(SIGNAL), true)
})
