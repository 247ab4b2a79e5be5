import { EventEmitter } from 'node:events'
import fp from 'fastify-plugin'
import type { FastifyBaseLogger, FastifyInstance } from 'fastify'
import { OPTIONS_EXPECTED, resolveConfig, type ResolvedConfig, type ZeroDowntimeOptions } from './plugin-options.js'
import { SYSTEM_CLOCK } from './clock.js'
import { ConnectionMaxAge } from './connection-age/max-age.js'
import { installDrain, type CleanupPhase, type DrainController, type DrainReport, type DrainRunOptions, type GoAwayListener } from './drain/index.js'
import { readiness, type ProbeState } from './health/report.js'
import { installProbeRoutes } from './health/routes.js'
import { loggableError } from './scrub.js'
import { CheckRunner } from './health/runner.js'
import type { CheckResult } from './health/types.js'
import { Lifecycle, type LifecycleState } from './lifecycle.js'
import { installMetrics } from './metrics/index.js'
import { errorCodes } from './errors.js'
import { callback, invalid } from './options.js'
import { installPressure } from './pressure/index.js'
import { ownProcess, processOwnerOf, warnShortCloseGraceDelay } from './process/index.js'

export type { ZeroDowntimeOptions } from './plugin-options.js'

export interface ZeroDowntimeEvents {
  /** The lifecycle moved (starting → ready → draining → closing → stopped). */
  state: [state: LifecycleState, previous: LifecycleState]
  /** A check's status changed; its first result always counts as a change. */
  check: [result: CheckResult, previous: CheckResult]
}

/** A listener of `app.zeroDowntime.on(event, ...)`; what it throws or rejects with is logged, never propagated. */
export type ZeroDowntimeListener<E extends keyof ZeroDowntimeEvents> = (...args: ZeroDowntimeEvents[E]) => unknown

/**
 * `app.zeroDowntime`: what an app reads about its pod and the few things it
 * may do. Moving the lifecycle is the plugin's (a `stopped` pod that never
 * drained would lie to Kubernetes), and so is emitting events.
 */
export interface ZeroDowntime {
  /** Current lifecycle state. */
  readonly state: LifecycleState
  /** Latest result of every check, in declaration order. */
  readonly checks: readonly CheckResult[]
  /** True when the readiness probe would answer 200 right now. */
  readonly ready: boolean
  /** The resolved (frozen) options, the drain's included. */
  readonly config: ResolvedConfig
  /** Marks the service as started: startup probe turns 200, readiness follows the checks. */
  started: () => void
  /** Runs the whole drain once, as SIGTERM would; later calls return the same report. Never rejects (a bad `delayMs` throws). */
  drain: (reason?: string, options?: DrainRunOptions) => Promise<DrainReport>
  /** Called at drain start so SSE streams / WebSockets can tell clients to reconnect elsewhere; returns an unregister function. */
  onGoAway: (fn: GoAwayListener) => () => void
  /** Registers a dependency to close, in phase order: `consumers` at drain start, the rest after HTTP has drained. */
  addCleanup: (phase: CleanupPhase, name: string, fn: () => unknown, timeoutMs?: number) => void
  /** Listens for lifecycle (`state`) and check (`check`) changes. A listener that throws or rejects is logged; it cannot break the drain. */
  on: <E extends keyof ZeroDowntimeEvents>(event: E, listener: ZeroDowntimeListener<E>) => this
  /** Like `on`, for one event. */
  once: <E extends keyof ZeroDowntimeEvents>(event: E, listener: ZeroDowntimeListener<E>) => this
  /** Removes a listener added with `on` or `once`. */
  off: <E extends keyof ZeroDowntimeEvents>(event: E, listener: ZeroDowntimeListener<E>) => this
}

const NO_QUERY = Object.freeze({ verbose: false, exclude: new Set<string>() })

type AnyListener = (...args: unknown[]) => unknown

class ZeroDowntimeHandle implements ZeroDowntime {
  readonly config: ResolvedConfig
  readonly drain: ZeroDowntime['drain']
  readonly onGoAway: ZeroDowntime['onGoAway']
  readonly addCleanup: ZeroDowntime['addCleanup']
  readonly #lifecycle: Lifecycle
  readonly #runner: CheckRunner
  readonly #ready: () => boolean
  /** The app's listeners; only the plugin, which created it, emits on it. */
  readonly #events: EventEmitter
  /** Each app listener and the guarded function registered in its place, for `off`. */
  readonly #guarded = new Map<string, Map<AnyListener, AnyListener[]>>()
  readonly #log: FastifyBaseLogger

  constructor (lifecycle: Lifecycle, runner: CheckRunner, config: ResolvedConfig, drain: DrainController, ready: () => boolean, events: EventEmitter, log: FastifyBaseLogger) {
    this.#events = events
    this.#lifecycle = lifecycle
    this.config = config
    this.drain = drain.drain
    this.onGoAway = drain.onGoAway
    this.addCleanup = drain.addCleanup
    this.#runner = runner
    this.#ready = ready
    this.#log = log
  }

  get state (): LifecycleState { return this.#lifecycle.state }
  get checks (): readonly CheckResult[] { return this.#runner.results }
  get ready (): boolean { return this.#ready() }
  started (): void { this.#lifecycle.advance('ready') }

  on<E extends keyof ZeroDowntimeEvents> (event: E, listener: ZeroDowntimeListener<E>): this {
    this.#events.on(event, this.#guard(event, listener as AnyListener, false))
    return this
  }

  once<E extends keyof ZeroDowntimeEvents> (event: E, listener: ZeroDowntimeListener<E>): this {
    this.#events.once(event, this.#guard(event, listener as AnyListener, true))
    return this
  }

  off<E extends keyof ZeroDowntimeEvents> (event: E, listener: ZeroDowntimeListener<E>): this {
    const guarded = this.#forget(event, listener as AnyListener)
    if (guarded !== undefined) this.#events.off(event, guarded)
    return this
  }

  /**
   * Drops one registration of `listener` and returns its guarded function:
   * `guarded` itself (a `once` that fired), else the latest one, which is the
   * one EventEmitter's `off` removes. A `once` may find itself gone: an emit
   * in progress still calls a listener removed during it, so a `once` that
   * another listener `off`ed fires anyway. An emptied list goes: an app that
   * adds and removes listeners must not leave them held here.
   */
  #forget (event: string, listener: AnyListener, guarded?: AnyListener): AnyListener | undefined {
    const byListener = this.#guarded.get(event)
    const list = byListener?.get(listener)
    if (byListener === undefined || list === undefined) return undefined
    const i = guarded === undefined ? list.length - 1 : list.indexOf(guarded)
    if (i < 0) return undefined
    const [removed] = list.splice(i, 1)
    if (list.length === 0) byListener.delete(listener)
    return removed
  }

  /**
   * Wraps an app listener so that neither a throw nor a rejection reaches the
   * emitter: a lifecycle event is emitted from inside the drain, and a
   * listener's error must not stop it (nor the other listeners).
   */
  #guard (event: string, listener: AnyListener, once: boolean): AnyListener {
    callback(listener, `zeroDowntime.on("${event}") listener`)
    const failed = (err: unknown): void => {
      this.#log.error({ error: loggableError(err) }, `a zeroDowntime "${event}" listener threw`)
    }
    const guarded: AnyListener = (...args) => {
      if (once) this.#forget(event, listener, guarded)
      try {
        const result = listener(...args)
        if (typeof (result as Promise<unknown> | undefined)?.then === 'function') (result as Promise<unknown>).then(undefined, failed)
      } catch (err) {
        failed(err)
      }
    }
    let byListener = this.#guarded.get(event)
    if (byListener === undefined) this.#guarded.set(event, byListener = new Map())
    const list = byListener.get(listener) ?? []
    list.push(guarded)
    byListener.set(listener, list)
    return guarded
  }
}

/** The drain controller of an app with the plugin, for tests that cut or announce through it; undefined without the plugin. */
export function drainControllerOf (app: FastifyInstance): DrainController | undefined {
  return processOwnerOf(app)?.drain
}

declare module 'fastify' {
  interface FastifyInstance {
    zeroDowntime: ZeroDowntime
  }
}

async function zeroDowntimePlugin (app: FastifyInstance, opts: ZeroDowntimeOptions): Promise<void> {
  // Fastify turns missing options into {}: undefined or null here came from
  // options given as a function that returned nothing.
  if (opts === undefined || opts === null) throw invalid('options', OPTIONS_EXPECTED, opts)
  // A second drain on the same server would race the first one over every socket.
  if (app.hasDecorator('zeroDowntime')) {
    throw new errorCodes.FST_ZD_ALREADY_REGISTERED('the plugin is already registered on this instance (or a parent of it); register it once, on the root instance')
  }
  const config = resolveConfig(opts)
  const lifecycle = new Lifecycle()
  const runner = new CheckRunner(config.checks, app.log)
  const pressure = await installPressure(app, config.pressure)

  const probeState = (): ProbeState => ({
    lifecycle: lifecycle.state,
    terminating: lifecycle.terminating,
    checks: runner.checks,
    results: runner.results,
    pressure: pressure.measurements()
  })
  installProbeRoutes(app, config, probeState)

  const drain = installDrain(app, lifecycle, config.drain, new ConnectionMaxAge(config.connectionAge, SYSTEM_CLOCK), SYSTEM_CLOCK)
  if (config.metrics !== false) {
    const releaseMetrics = await installMetrics(config.metrics, {
      lifecycle: () => lifecycle.state,
      checks: () => runner.results,
      drain: () => drain.progress(),
      retired: () => drain.retiredBy(),
      shed: pressure.shed
    })
    // Once closed, another app (per-test, an in-process restart) may take the registry over.
    app.addHook('onClose', async () => { releaseMetrics() })
  }

  const events = new EventEmitter()
  const handle: ZeroDowntime = new ZeroDowntimeHandle(lifecycle, runner, config, drain, () => readiness(probeState(), NO_QUERY).statusCode === 200, events, app.log)
  app.decorate('zeroDowntime', handle)

  // The handle guards every app listener: a throw cannot reach the drain or the checks that emitted.
  const relay = <E extends keyof ZeroDowntimeEvents>(event: E, ...args: ZeroDowntimeEvents[E]): void => { events.emit(event, ...args) }
  runner.on('check', (result, previous) => { relay('check', result, previous) })
  lifecycle.on('state', (state, previous) => {
    // Once terminating, readiness is 503 whatever the checks say, and the
    // drain is about to close the very pools they use: stop before that.
    if (lifecycle.terminating) runner.stop()
    relay('state', state, previous)
  })

  const owner = ownProcess(app, drain)
  // First results before listening, so the pod is ready at its first probe;
  // a signal while they run stops the start.
  app.addHook('onReady', async () => { await owner.duringStartupChecks(async () => { await runner.start() }) })
  if (config.startup === 'listen') app.addHook('onListen', async () => { lifecycle.advance('ready') })
  app.addHook('onClose', async () => { runner.stop() })
  warnShortCloseGraceDelay(config.drain)
}

// The same range as the peer dependency in package.json (a test keeps them in step).
export const zeroDowntime = fp(zeroDowntimePlugin, { fastify: '>=5.11.2 <6', name: 'fastify-zero-downtime' })
