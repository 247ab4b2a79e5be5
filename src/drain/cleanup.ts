/**
 * Dependencies closed in a fixed order around the HTTP drain: message
 * consumers stop first (at drain start: no new work comes in while requests
 * finish), then, once HTTP has drained, databases, caches, brokers and the
 * rest — a request still in flight may need all of them until it ends.
 * Each item has its own timeout, and everything after HTTP (consumers that
 * are still stopping included) is bounded by the cleanup budget whatever an
 * item's own timeout says; a throwing or hanging item is logged and never
 * stops the others nor crashes the process.
 *
 * Registrations after the drain started: a consumer (say, re-created by a
 * reconnect loop) is stopped at once, since consumers must not take new work
 * while the pod drains; any other registration whose phase has already
 * started is refused with an Error, because it can no longer run in order.
 */
import type { FastifyBaseLogger } from 'fastify'
import { SYSTEM_CLOCK, type Clock } from '../clock.js'
import { describeError } from '../scrub.js'
import { errorCodes } from '../errors.js'
import { callback, durationMs, invalidArgument, nonEmptyString } from '../options.js'

export const CLEANUP_PHASES = ['consumers', 'databases', 'caches', 'brokers', 'other'] as const
/** Order in which cleanup runs: `consumers` at drain start, the rest after HTTP has drained. */
export type CleanupPhase = (typeof CLEANUP_PHASES)[number]

export interface CleanupResult {
  readonly phase: CleanupPhase
  readonly name: string
  /** `skipped`: the cleanup budget was spent before its turn; `timeout`: its own timeout or the budget ran out first. */
  readonly outcome: 'ok' | 'error' | 'timeout' | 'skipped'
  readonly durationMs: number
  /** What it threw, scrubbed like every output of the plugin. */
  readonly error?: string
}

interface CleanupItem {
  readonly phase: CleanupPhase
  readonly name: string
  readonly fn: () => unknown
  readonly timeoutMs: number
}

interface Running {
  readonly result: Promise<CleanupResult>
  /** Stops waiting for the item now (the budget ran out): it resolves as a timeout. */
  readonly abandon: () => void
}

/**
 * The clock the budget is measured on. Epoch milliseconds rather than
 * SYSTEM_CLOCK's fractional monotonic ones: durations stay whole milliseconds,
 * like every other number of the drain's timeline (timeline.ts).
 */
const DRAIN_CLOCK: Clock = Object.freeze({ ...SYSTEM_CLOCK, now: () => Date.now() })

/**
 * The time left for cleanups: spent at `until` by the clock, or as soon as a
 * timer set for `until` fired (the budget's own, or an item's timeout cut to
 * it), whichever comes first. A timer may fire a millisecond before `until`
 * as `now()` sees it; an item started after that must be skipped, not given
 * the millisecond that seems left.
 */
interface Budget {
  readonly until: number
  spent: boolean
}

const TIMED_OUT = Symbol('timed out')
const ABANDONED = Symbol('abandoned')

export class CleanupRegistry {
  readonly #items: CleanupItem[] = []
  /** Phases that have started, with their items' runs. */
  readonly #started = new Map<CleanupPhase, Running[]>()
  /** Phases whose results are collected: nothing more can join them. */
  readonly #closed = new Set<CleanupPhase>()
  readonly #log: FastifyBaseLogger
  readonly #defaultTimeoutMs: number
  readonly #clock: Clock

  /** `clock`: injectable so that the budget arithmetic is unit-tested on a fake clock instead of against real timers. */
  constructor (log: FastifyBaseLogger, defaultTimeoutMs: number, clock: Clock = DRAIN_CLOCK) {
    this.#log = log
    this.#defaultTimeoutMs = defaultTimeoutMs
    this.#clock = clock
  }

  add (phase: CleanupPhase, name: string, fn: () => unknown, timeoutMs?: number): void {
    if (!(CLEANUP_PHASES as readonly unknown[]).includes(phase)) {
      throw invalidArgument('addCleanup phase', `one of ${CLEANUP_PHASES.join(', ')}`, phase)
    }
    nonEmptyString(name, 'addCleanup name')
    callback(fn, `addCleanup "${name}" fn`)
    const item = { phase, name, fn, timeoutMs: durationMs(timeoutMs, `addCleanup "${name}" timeoutMs`) ?? this.#defaultTimeoutMs }
    const running = this.#started.get(phase)
    if (running === undefined) {
      this.#items.push(item)
    } else if (!this.#closed.has(phase)) {
      // Only `consumers` is started yet open: stop this one now, with the others.
      running.push(this.#start(item, { until: Infinity, spent: false }))
    } else {
      throw new errorCodes.FST_ZD_CLEANUP_REFUSED(`addCleanup("${phase}", "${name}") refused: the ${phase} cleanup has already run in this drain; close it yourself`)
    }
  }

  /** Starts the consumers (at drain start); their results are collected after HTTP. */
  startConsumers (): void {
    this.#startPhase('consumers', { until: Infinity, spent: false })
  }

  /** Runs the phases after HTTP in order, all within `budgetMs`; consumers still stopping are given up at its end. */
  async runAfterHttp (budgetMs: number): Promise<readonly CleanupResult[]> {
    const budget: Budget = { until: this.#clock.now() + budgetMs, spent: false }
    this.#closed.add('consumers')
    const results = [...await this.#collectBy(this.#startPhase('consumers', budget), budget)]
    for (const phase of CLEANUP_PHASES.slice(1)) {
      this.#closed.add(phase)
      results.push(...await this.#collectBy(this.#startPhase(phase, budget), budget))
    }
    return results
  }

  #startPhase (phase: CleanupPhase, budget: Budget): Running[] {
    let running = this.#started.get(phase)
    if (running === undefined) {
      running = this.#items.filter((item) => item.phase === phase).map((item) => this.#start(item, budget))
      this.#started.set(phase, running)
    }
    return running
  }

  /** Results of a phase's runs; those still running when the budget is spent are abandoned (reported as timeouts). */
  async #collectBy (running: readonly Running[], budget: Budget): Promise<CleanupResult[]> {
    // Ref'ed like the items' own timers: see #start.
    const cancelBudget = this.#clock.after(Math.max(0, budget.until - this.#clock.now()), () => {
      budget.spent = true
      for (const r of running) r.abandon()
    }, true)
    try {
      return await Promise.all(running.map(async (r) => await r.result))
    } finally {
      cancelBudget()
    }
  }

  #start (item: CleanupItem, budget: Budget): Running {
    const started = this.#clock.now()
    const timeoutMs = Math.min(item.timeoutMs, budget.until - started)
    const base = { phase: item.phase, name: item.name }
    if (timeoutMs <= 0 || budget.spent) {
      this.#log.error({ drain: 'cleanup', ...base, outcome: 'skipped' }, `cleanup ${item.phase}/${item.name} skipped: cleanup budget spent`)
      return { result: Promise.resolve({ ...base, outcome: 'skipped', durationMs: 0 }), abandon: () => {} }
    }
    let cancelTimer: () => void = () => {}
    let abandon: () => void = () => {}
    // Ref'ed on purpose, and always cleared: a hung close() often holds no
    // handle at all, and an unref'ed timer would let the event loop empty and
    // the process exit before the timeout is logged.
    // Cut to what was left of the budget, this timer marks the budget's end
    // like the budget's own timer does.
    const endsBudget = budget.until - started <= item.timeoutMs
    const stop = new Promise<typeof TIMED_OUT | typeof ABANDONED>((resolve) => {
      cancelTimer = this.#clock.after(timeoutMs, () => {
        if (endsBudget) budget.spent = true
        resolve(TIMED_OUT)
      }, true)
      abandon = () => { resolve(ABANDONED) }
    })
    const result = (async (): Promise<CleanupResult> => {
      try {
        // The item's own promise is raced, not awaited alone: a hung pool.end()
        // must not hold the pod until SIGKILL.
        const outcome = await Promise.race([Promise.resolve().then(item.fn), stop])
        const durationMs = this.#clock.now() - started
        if (outcome === TIMED_OUT || outcome === ABANDONED) {
          const why = outcome === TIMED_OUT ? `timed out after ${timeoutMs} ms` : `still running when the cleanup budget ran out, after ${durationMs} ms`
          this.#log.error({ drain: 'cleanup', ...base, outcome: 'timeout', durationMs }, `cleanup ${item.phase}/${item.name} ${why}`)
          return { ...base, outcome: 'timeout', durationMs }
        }
        this.#log.info({ drain: 'cleanup', ...base, outcome: 'ok', durationMs }, `cleanup ${item.phase}/${item.name} done`)
        return { ...base, outcome: 'ok', durationMs }
      } catch (err) {
        const durationMs = this.#clock.now() - started
        const error = describeError(err)
        this.#log.error({ drain: 'cleanup', ...base, outcome: 'error', durationMs, error }, `cleanup ${item.phase}/${item.name} failed`)
        return { ...base, outcome: 'error', durationMs, error }
      } finally {
        cancelTimer()
      }
    })()
    // The executor above has run: `abandon` resolves this item's race now.
    return { result, abandon }
  }
}
