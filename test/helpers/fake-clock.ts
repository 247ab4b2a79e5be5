/**
 * A fake `Clock` (src/clock.ts) for the plugin's timing logic: time moves only
 * when a test advances it, so what a timer decides is tested in order, with
 * no sleep and no dependence on how fast the machine is.
 */
import type { Clock } from '../../src/clock.js'

export interface FakeTimer { readonly at: number, readonly fn: () => void, readonly keepAlive: boolean, cancelled: boolean }

export class FakeClock implements Clock {
  #now: number
  readonly timers: FakeTimer[] = []
  constructor (start = 0) {
    this.#now = start
  }

  readonly now = (): number => this.#now
  readonly isoNow = (): string => new Date(Date.UTC(2026, 0, 1) + this.#now).toISOString()
  readonly after = (ms: number, fn: () => void, keepAlive: boolean): () => void => {
    const timer: FakeTimer = { at: this.#now + ms, fn, keepAlive, cancelled: false }
    this.timers.push(timer)
    return () => { timer.cancelled = true }
  }

  get pending (): FakeTimer[] { return this.timers.filter((x) => !x.cancelled && x.at >= this.#now) }

  /**
   * Moves time forward to `ms`, firing due timers in order (those due at the
   * same instant in the order they were set, like Node's) and letting the
   * promises they settle run.
   */
  async advanceTo (ms: number): Promise<void> {
    for (;;) {
      await settle()
      const next = this.pending.filter((x) => x.at <= ms).sort((a, b) => a.at - b.at)[0]
      if (next === undefined) break
      this.#now = next.at
      next.cancelled = true
      next.fn()
    }
    this.#now = ms
    await settle()
  }
}

/** Lets the promise chains a step started run to their next wait (a fixed number of microtask turns, not time). */
export async function settle (): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve()
}
