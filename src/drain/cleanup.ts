/**
 * Dependencies closed in a fixed order around the HTTP drain: message
 * consumers stop first (at drain start: no new work comes in while requests
 * finish), then, once HTTP has drained, databases, caches, brokers and the
 * rest — a request still in flight may need all of them until it ends.
 * Each item has its own timeout; a throwing or hanging item is logged and
 * never stops the others nor crashes the process.
 */
import type { FastifyBaseLogger } from 'fastify'

export const CLEANUP_PHASES = ['consumers', 'databases', 'caches', 'brokers', 'other'] as const
/** Order in which cleanup runs: `consumers` at drain start, the rest after HTTP has drained. */
export type CleanupPhase = (typeof CLEANUP_PHASES)[number]

export interface CleanupResult {
  readonly phase: CleanupPhase
  readonly name: string
  /** `skipped`: the cleanup budget was spent before its turn. */
  readonly outcome: 'ok' | 'error' | 'timeout' | 'skipped'
  readonly durationMs: number
  readonly error?: string
}

interface CleanupItem {
  readonly phase: CleanupPhase
  readonly name: string
  readonly fn: () => unknown
  readonly timeoutMs: number
}

const TIMED_OUT = Symbol('timed out')

function errorText (err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err)
}

export class CleanupRegistry {
  readonly #items: CleanupItem[] = []
  readonly #runs = new Map<CleanupPhase, Promise<readonly CleanupResult[]>>()
  readonly #log: FastifyBaseLogger
  readonly #defaultTimeoutMs: number

  constructor (log: FastifyBaseLogger, defaultTimeoutMs: number) {
    this.#log = log
    this.#defaultTimeoutMs = defaultTimeoutMs
  }

  add (phase: CleanupPhase, name: string, fn: () => unknown, timeoutMs?: number): void {
    if (!(CLEANUP_PHASES as readonly unknown[]).includes(phase)) {
      throw new TypeError(`fastify-zero-downtime: addCleanup phase must be one of ${CLEANUP_PHASES.join(', ')}, got ${JSON.stringify(phase)}`)
    }
    if (typeof name !== 'string' || name === '') {
      throw new TypeError('fastify-zero-downtime: addCleanup name must be a non-empty string')
    }
    if (typeof fn !== 'function') {
      throw new TypeError(`fastify-zero-downtime: addCleanup "${name}" needs a function`)
    }
    if (timeoutMs !== undefined && (typeof timeoutMs !== 'number' || !Number.isFinite(timeoutMs) || timeoutMs <= 0)) {
      throw new TypeError(`fastify-zero-downtime: addCleanup "${name}" timeoutMs must be a positive number of milliseconds, got ${String(timeoutMs)}`)
    }
    this.#items.push({ phase, name, fn, timeoutMs: timeoutMs ?? this.#defaultTimeoutMs })
  }

  /** Runs one phase once (its items in parallel); later calls return the same results. */
  run (phase: CleanupPhase, until = Infinity): Promise<readonly CleanupResult[]> {
    let run = this.#runs.get(phase)
    if (run === undefined) {
      const items = this.#items.filter((item) => item.phase === phase)
      run = Promise.all(items.map(async (item) => await this.#runItem(item, until)))
      this.#runs.set(phase, run)
    }
    return run
  }

  /** Runs the phases after HTTP in order, all within `budgetMs`. */
  async runAfterHttp (budgetMs: number): Promise<readonly CleanupResult[]> {
    const until = Date.now() + budgetMs
    const results: CleanupResult[] = [...await this.run('consumers', until)]
    for (const phase of CLEANUP_PHASES.slice(1)) results.push(...await this.run(phase, until))
    return results
  }

  async #runItem (item: CleanupItem, until: number): Promise<CleanupResult> {
    const started = Date.now()
    const timeoutMs = Math.min(item.timeoutMs, until - started)
    const base = { phase: item.phase, name: item.name }
    if (timeoutMs <= 0) {
      this.#log.error({ drain: 'cleanup', ...base, outcome: 'skipped' }, `cleanup ${item.phase}/${item.name} skipped: cleanup budget spent`)
      return { ...base, outcome: 'skipped', durationMs: 0 }
    }
    let timer: NodeJS.Timeout | undefined
    // Ref'ed on purpose, and always cleared: a hung close() often holds no
    // handle at all, and an unref'ed timer would let the event loop empty and
    // the process exit before the timeout is logged.
    const timeout = new Promise<typeof TIMED_OUT>((resolve) => {
      timer = setTimeout(resolve, timeoutMs, TIMED_OUT)
    })
    try {
      // The item's own promise is raced, not awaited alone: a hung pool.end()
      // must not hold the pod until SIGKILL.
      const outcome = await Promise.race([Promise.resolve().then(item.fn), timeout])
      const durationMs = Date.now() - started
      if (outcome === TIMED_OUT) {
        this.#log.error({ drain: 'cleanup', ...base, outcome: 'timeout', durationMs }, `cleanup ${item.phase}/${item.name} timed out after ${timeoutMs} ms`)
        return { ...base, outcome: 'timeout', durationMs }
      }
      this.#log.info({ drain: 'cleanup', ...base, outcome: 'ok', durationMs }, `cleanup ${item.phase}/${item.name} done`)
      return { ...base, outcome: 'ok', durationMs }
    } catch (err) {
      const durationMs = Date.now() - started
      const error = errorText(err)
      this.#log.error({ drain: 'cleanup', ...base, outcome: 'error', durationMs, error }, `cleanup ${item.phase}/${item.name} failed`)
      return { ...base, outcome: 'error', durationMs, error }
    } finally {
      clearTimeout(timer)
    }
  }
}
