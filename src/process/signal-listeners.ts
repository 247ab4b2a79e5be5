/**
 * Who else listens for a termination signal, as the process owner must know
 * it when the signal arrives.
 *
 * The owner asks from inside the signal's own emit, and by then the emit may
 * already have called listeners registered before it. A listener added with
 * `process.once` (the most common `server.js` layout:
 * `process.once('SIGTERM', shutdown)`; close-with-grace registers that way
 * too) removes itself before it is called, so `process.listeners(signal)` no
 * longer shows it: asked naively, the plugin would find nobody, drain in
 * parallel and end the process in the middle of the app's own shutdown.
 * Node calls listeners in registration order, so no position of the
 * plugin's own listener avoids this for every shape (a `prependOnceListener`
 * added later still runs first).
 *
 * So the listeners that left during the signal are counted too: Node emits
 * `removeListener` when a once-wrapper removes itself, and an emit calls all
 * its listeners in one synchronous run, with no microtask checkpoint
 * between them. A removal recorded now and forgotten at the next microtask
 * checkpoint is therefore one made by a listener this same signal has
 * already called; a removal made earlier, by code that deliberately stopped
 * listening, was forgotten at the checkpoint that ended its own task, before
 * the signal's task began.
 */
import { kSignalExitV4, kSignalOwner } from './symbols.js'

/** What the plugin's listener of each app tells the others. */
export interface SignalOwnerMark {
  /**
   * True while this app drains for a signal it owned, or has handed it to a
   * handler registered meanwhile: another app finishing then leaves the end
   * of the process to it (the last one to finish ends the process).
   */
  readonly draining: () => boolean
}

export type OwnerListener = ((signal: NodeJS.Signals) => void) & { [kSignalOwner]?: SignalOwnerMark }

/** Process listeners are functions: `listeners()` and the `removeListener` event only give those. */
function mark (listener: unknown): SignalOwnerMark | undefined {
  return (listener as OwnerListener)[kSignalOwner]
}

/**
 * signal-exit's listeners (tap's coverage, foreground-child, many CLIs) are
 * not owners: they act only when they are alone, so counting them would
 * leave nobody to drain and a process that never exits. v4 counts its loaded
 * instances on a global, v3 on `process`; each listens once per signal.
 */
function signalExitListeners (): number {
  const count = (emitter: { count?: unknown } | undefined): number => typeof emitter?.count === 'number' ? emitter.count : 0
  const v4 = (globalThis as Record<symbol, { count?: unknown } | undefined>)[kSignalExitV4]
  const v3 = (process as { __signal_exit_emitter__?: { count?: unknown } }).__signal_exit_emitter__
  return count(v4) + count(v3)
}

/** Listeners of `signal` that are neither a plugin's nor signal-exit's, right now. */
function othersNow (signal: NodeJS.Signals): number {
  const all = process.listeners(signal)
  return all.filter((l) => mark(l) === undefined).length - signalExitListeners()
}

/** True when another app's plugin still drains for `signal`: the last app to finish ends the process. */
export function otherAppDraining (signal: NodeJS.Signals): boolean {
  return process.listeners(signal).some((l) => mark(l)?.draining() === true)
}

/** True when, outside a signal's emit, another owner listens for `signal` (one registered after the signal arrived). */
export function otherOwnerNow (signal: NodeJS.Signals): boolean {
  return othersNow(signal) > 0
}

/** Records which listeners of `signals` left during the current synchronous run; see the module comment. */
export class SignalWitness {
  readonly #signals: ReadonlySet<string | symbol>
  readonly #left = new Map<string | symbol, number>()
  #forgetting = false
  #watching = false
  readonly #onRemoved = (event: string | symbol, listener: unknown): void => {
    if (!this.#signals.has(event) || mark(listener) !== undefined) return
    this.#left.set(event, (this.#left.get(event) ?? 0) + 1)
    if (this.#forgetting) return
    this.#forgetting = true
    queueMicrotask(() => {
      this.#left.clear()
      this.#forgetting = false
    })
  }

  constructor (signals: readonly NodeJS.Signals[]) {
    this.#signals = new Set(signals)
  }

  watch (): void {
    if (this.#watching) return
    this.#watching = true
    process.on('removeListener', this.#onRemoved)
  }

  unwatch (): void {
    this.#watching = false
    process.removeListener('removeListener', this.#onRemoved)
  }

  /** Asked from the plugin's listener, inside the signal's emit: did another owner listen when `signal` arrived? */
  otherOwnerAtSignal (signal: NodeJS.Signals): boolean {
    return othersNow(signal) + (this.#left.get(signal) ?? 0) > 0
  }
}
