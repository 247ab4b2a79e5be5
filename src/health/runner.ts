import { EventEmitter } from 'node:events'
import { SYSTEM_CLOCK, type Clock } from '../clock.js'
import { describeError, scrub } from '../scrub.js'
import type { CheckResult, HealthStatus, ResolvedCheck } from './types.js'

export interface CheckRunnerEvents {
  /**
   * A check's status changed (its first result counts as a change from
   * pending). Listeners must not throw: the plugin's relay catches app errors.
   */
  check: [result: CheckResult, previous: CheckResult]
}

/** The part of a pino/Fastify logger the runner writes to. */
export interface RunnerLogger {
  info: (obj: object, msg: string) => void
  warn: (obj: object, msg: string) => void
}

interface Outcome {
  readonly status: HealthStatus
  readonly output?: string
}

const STATUSES: readonly unknown[] = ['pass', 'warn', 'fail']

function fail (output: string): Outcome {
  return { status: 'fail', output }
}

/** Reads what a check resolved to; anything unexpected fails rather than passing by accident. */
function interpret (value: unknown): Outcome {
  try {
    return read(value)
  } catch (err) {
    // A getter on a returned object may throw: that is the check failing too.
    return fail(describeError(err))
  }
}

function read (value: unknown): Outcome {
  if (value === undefined || value === true) return { status: 'pass' }
  if (value === false) return fail('check returned false')
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const { status, output } = value as { status?: unknown, output?: unknown }
    if (STATUSES.includes(status) && (output === undefined || typeof output === 'string')) {
      return output === undefined || output === '' ? { status: status as HealthStatus } : { status: status as HealthStatus, output: scrub(output) }
    }
  }
  const kind = value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value
  return fail(`check returned an invalid value (${kind}); expected nothing, a boolean or { status: "pass" | "warn" | "fail", output? }`)
}

/**
 * Runs every check in the background and caches its latest result, so a probe
 * answers from memory at once: a burst of probes never becomes a burst of
 * database queries, and a hanging dependency cannot make the kubelet's probe
 * time out (which it would count as a failure of a different kind).
 *
 * Each check is rescheduled `intervalMs` after its previous run ENDED, and a
 * check is never called while its previous call is still in flight: a call
 * that outlives its timeout (one that ignores its abort signal, a pool whose
 * queue it waits in) is reported failed at the timeout, and each later run
 * reports it still running instead of adding a call behind it. A hung
 * dependency so holds at most one call of each check, however long it hangs.
 */
export class CheckRunner extends EventEmitter<CheckRunnerEvents> {
  readonly #checks: readonly ResolvedCheck[]
  readonly #log: RunnerLogger
  readonly #results = new Map<string, CheckResult>()
  readonly #clock: Clock
  /** Cancels of the pending refresh timers. */
  readonly #timers = new Set<() => void>()
  readonly #inflight = new Set<AbortController>()
  /** When the call of a check that outlived its run began, until that call settles. */
  readonly #outliving = new Map<string, number>()
  #started: Promise<void> | undefined
  #stopped = false

  constructor (checks: readonly ResolvedCheck[], log: RunnerLogger, clock: Clock = SYSTEM_CLOCK) {
    super()
    this.#checks = checks
    this.#log = log
    this.#clock = clock
    const time = clock.isoNow()
    for (const check of checks) {
      this.#results.set(check.name, Object.freeze({ name: check.name, status: 'fail', latencyMs: 0, time, output: 'not checked yet', pending: true }))
    }
  }

  get checks (): readonly ResolvedCheck[] {
    return this.#checks
  }

  /** Latest results, in the order the checks were declared. */
  get results (): readonly CheckResult[] {
    return this.#checks.map((c) => this.#results.get(c.name) as CheckResult)
  }

  /** Runs every check once (so readiness is known when the server starts listening), then keeps refreshing. */
  async start (): Promise<void> {
    this.#started ??= (async () => {
      await Promise.all(this.#checks.map(async (check) => { await this.#run(check) }))
      for (const check of this.#checks) this.#schedule(check)
    })()
    await this.#started
  }

  /** Stops refreshing and abandons runs in flight; results stay as they were. */
  stop (): void {
    this.#stopped = true
    for (const cancel of this.#timers) cancel()
    this.#timers.clear()
    for (const controller of this.#inflight) controller.abort(new Error('health checks stopped'))
  }

  #schedule (check: ResolvedCheck): void {
    if (this.#stopped) return
    // Refresh timers must never keep a process alive that is otherwise done.
    const cancel = this.#clock.after(check.intervalMs, () => {
      this.#timers.delete(cancel)
      void this.#run(check).then(() => { this.#schedule(check) })
    }, false)
    this.#timers.add(cancel)
  }

  async #run (check: ResolvedCheck): Promise<void> {
    const outliving = this.#outliving.get(check.name)
    if (outliving !== undefined) {
      const runningMs = this.#clock.now() - outliving
      this.#record(check, { status: 'fail', output: `still running after ${Math.round(runningMs)} ms (timed out after ${check.timeoutMs} ms and did not stop when aborted); not called again until it settles` }, runningMs)
      return
    }
    const controller = new AbortController()
    this.#inflight.add(controller)
    const begin = this.#clock.now()
    let cancelTimeout = (): void => {}
    let settled = false
    const outcome = await new Promise<Outcome>((resolve) => {
      // Kept alive: `await app.ready()` in a script must not exit while a check hangs.
      cancelTimeout = this.#clock.after(check.timeoutMs, () => { resolve(fail(`timed out after ${check.timeoutMs} ms`)) }, true)
      controller.signal.addEventListener('abort', () => { resolve(fail('health checks stopped')) }, { once: true })
      const settle = (result: Outcome): void => {
        settled = true
        this.#outliving.delete(check.name)
        resolve(result)
      }
      // Called from a then callback, a synchronous throw becomes a rejection: no check can crash the process.
      Promise.resolve().then(() => check.check({ signal: controller.signal, timeoutMs: check.timeoutMs }))
        .then((value) => { settle(interpret(value)) }, (err: unknown) => { settle(fail(describeError(err))) })
    })
    cancelTimeout()
    this.#inflight.delete(controller)
    if (!settled) this.#outliving.set(check.name, begin)
    // Tell a check that lost the race to its timeout to give up its I/O.
    if (!controller.signal.aborted) controller.abort(new Error(`health check "${check.name}" timed out or finished`))
    this.#record(check, outcome, this.#clock.now() - begin)
  }

  #record (check: ResolvedCheck, outcome: Outcome, latencyMs: number): void {
    if (this.#stopped) return
    const result: CheckResult = Object.freeze({
      name: check.name,
      status: outcome.status,
      latencyMs: Math.round(latencyMs * 100) / 100,
      time: this.#clock.isoNow(),
      ...(outcome.output === undefined ? {} : { output: outcome.output }),
      pending: false
    })
    const previous = this.#results.get(check.name) as CheckResult
    this.#results.set(check.name, result)
    if (previous.status !== result.status || previous.pending) this.#changed(check, result, previous)
  }

  #changed (check: ResolvedCheck, result: CheckResult, previous: CheckResult): void {
    const fields = { check: check.name, status: result.status, previous: previous.pending ? 'pending' : previous.status, output: result.output, critical: check.critical }
    if (result.status === 'pass') this.#log.info(fields, `health check "${check.name}" passes`)
    else this.#log.warn(fields, `health check "${check.name}" ${result.status === 'fail' ? 'fails' : 'warns'}`)
    this.emit('check', result, previous)
  }
}
