/**
 * The drain sequence, from SIGTERM (or `drain()`, or `app.close()`) to a
 * stopped app:
 *
 *   draining: readiness 503 at once, Connection: close on every response,
 *             SSE/WebSockets told to go away, consumers stop, requests served
 *   ── drain delay (endpoint removal reaches kube-proxy / ingress) ──
 *   closing:  listener closed (without closing idle sockets, unlike
 *             server.close()); connections retire after their next response;
 *             those that stay idle for idleCloseMs are closed
 *   ── no connection left, or the hard deadline cuts what is left ──
 *   app.close() (nothing left for its 503s or idle closing to hit), then
 *   databases → caches → brokers → other, each with its own timeout
 *   stopped:  report { clean, counts, cut requests, cleanup outcomes }
 *
 * Two entries share these steps, and each step runs once whichever comes
 * first: `drain()` (listen(), the plugin's own SIGTERM owner) runs the HTTP
 * drain and then calls `app.close()`; an `app.close()` called by someone else
 * (close-with-grace, fastify-cli, a test) runs the HTTP drain from a close
 * handler that runs before Fastify's own (see `installDrain`). The HTTP steps
 * are run.ts's; this file owns the entries, the hooks and the report.
 */
import { Server as NetServer } from 'node:net'
import type { FastifyInstance } from 'fastify'
import { SYSTEM_CLOCK, type Clock } from '../clock.js'
import { describeError } from '../scrub.js'
import { logWritten } from '../log-written.js'
import type { Lifecycle } from '../lifecycle.js'
import { CleanupRegistry, type CleanupPhase, type CleanupResult } from './cleanup.js'
import type { ConnectionMaxAge } from '../connection-age/max-age.js'
import { checkDrainRunOptions, type DrainConfig, type DrainRunOptions } from './drain-options.js'
import { ConnectionTracker } from './connections.js'
import { Http2SessionTracker } from './http2-sessions.js'
import { keepAliveHintFor } from './keep-alive-hint.js'
import { GoAwayRegistry, type GoAwayListener } from './long-lived.js'
import { buildReport, drainProgress, retiredBy, type DrainProgress, type DrainReport } from './report.js'
import { cutAll, runHttpDrain } from './run.js'
import { Timeline } from './timeline.js'
import type { CutRequest, TransportTracker } from './transport.js'

export type { DrainProgress, DrainReport } from './report.js'
export type { DrainRunOptions } from './drain-options.js'

/**
 * A drain with no endpoint to wait for: no delay, idle connections closed at
 * once, like Fastify's own close; in-flight requests still finish with
 * `Connection: close` and the cleanups run in order. How an `app.close()`
 * that no termination signal announced drains (a test's teardown, an
 * embedding app), and a developer's Ctrl-C outside Kubernetes.
 */
export const PROMPT_DRAIN: Readonly<DrainRunOptions> = Object.freeze({ delayMs: 0, idleCloseMs: 0 })

export interface DrainController {
  /** Runs the whole drain once; later calls return the same promise. Never rejects (a bad option throws a TypeError). */
  drain (reason?: string, options?: DrainRunOptions): Promise<DrainReport>
  /**
   * Called at drain start so SSE streams / WebSockets can tell clients to
   * reconnect elsewhere; returns a function that unregisters the listener.
   */
  onGoAway (fn: GoAwayListener): () => void
  /** Registers a dependency to close, in phase order: `consumers` at drain start, the rest after HTTP has drained. */
  addCleanup (phase: CleanupPhase, name: string, fn: () => unknown, timeoutMs?: number): void
  /** Cuts every connection left now (a second signal); the running drain then finishes unclean. */
  abort (reason: string): void
  /**
   * A termination signal reached the process and another owner handles it:
   * an `app.close()` from now on drains like `drain(reason, options)` would,
   * instead of as a programmatic close.
   */
  announce (reason: string, options: DrainRunOptions): void
  /** Counts of the drain so far, read when metrics are scraped; undefined before a drain starts. */
  progress (): DrainProgress | undefined
  /** Connections (sessions) told to leave per reason since the server started, read when metrics are scraped. */
  retiredBy (): Readonly<Record<string, number>>
  /** The transports the drain retires (HTTP/1.x, HTTP/2), for code that retires connections of its own. */
  readonly trackers: readonly TransportTracker[]
  readonly config: DrainConfig
}

interface HttpRun {
  readonly t: Timeline
  readonly reason: string
}

/**
 * avvio's `onClose`, which Fastify exposes on every instance. avvio runs close
 * handlers last-in first-out, so one added once the app is ready runs before
 * Fastify's own, which it added while booting.
 */
interface CloseQueue {
  onClose: (fn: () => Promise<unknown>) => unknown
}

/**
 * `clock`: every timer and duration of the drain (tests pass a fake one);
 * `maxAge`: connections retire by age while the pod serves, through the same
 * trackers' `retire` (connection-age/max-age.ts), on the same clock.
 */
export function installDrain (app: FastifyInstance, lifecycle: Lifecycle, config: DrainConfig, maxAge: ConnectionMaxAge, clock: Clock = SYSTEM_CLOCK): DrainController {
  return new Drain(app, lifecycle, config, clock, maxAge)
}

class Drain implements DrainController {
  readonly config: DrainConfig
  readonly trackers: readonly TransportTracker[]
  readonly #app: FastifyInstance
  readonly #lifecycle: Lifecycle
  readonly #clock: Clock
  readonly #http1: ConnectionTracker
  readonly #http2: Http2SessionTracker
  readonly #goAway: GoAwayRegistry
  readonly #cleanup: CleanupRegistry
  readonly #cutNow = new AbortController()
  readonly #cut: CutRequest[] = []
  /** Each step once, whichever entry reaches it first. */
  #http: Promise<HttpRun> | undefined
  #dependencies: Promise<readonly CleanupResult[]> | undefined
  #report: Promise<DrainReport> | undefined
  #announced: { reason: string, options: DrainRunOptions } | undefined
  #timeline: Timeline | undefined
  #finalDurationMs: number | undefined

  constructor (app: FastifyInstance, lifecycle: Lifecycle, config: DrainConfig, clock: Clock, maxAge: ConnectionMaxAge) {
    this.config = config
    this.#app = app
    this.#lifecycle = lifecycle
    this.#clock = clock
    this.#http1 = new ConnectionTracker(app.server, () => Math.round(clock.now()), maxAge.onUse((c, reason) => this.#http1.retire(c, reason)),
      keepAliveHintFor(app.server, config.idleCloseMs))
    this.#http2 = new Http2SessionTracker(app.server, {
      tlsTransport: config.http2TlsTransport,
      clock,
      pingTimeoutMs: config.idleCloseSpacingMs,
      onUse: maxAge.onUse((s, reason) => this.#http2.retire(s, reason), (s) => { maxAge.graceFor(s.session) })
    })
    this.trackers = [this.#http1, this.#http2]
    this.#goAway = new GoAwayRegistry(app.log)
    this.#cleanup = new CleanupRegistry(app.log, config.cleanupTimeoutMs)
    this.#hookIntoClose()
  }

  // Arrow properties: the plugin's handle hands these out unbound (`app.zeroDowntime.drain`).
  readonly drain = (reason = 'drain() called', input?: DrainRunOptions): Promise<DrainReport> => {
    // Thrown, not a rejection, like an invalid plugin option.
    const options = checkDrainRunOptions(input, this.config)
    this.#report ??= (async () => {
      const run = await this.#drainHttp(reason, options)
      let closeFailed = false
      try {
        await this.#app.close()
      } catch (err) {
        closeFailed = true
        run.t.error('close-error', 'app.close() failed', { error: describeError(err) })
      }
      // Closed by the onClose hook even when app.close() failed: avvio runs
      // every onClose handler after one fails; this reads their outcomes.
      return this.#finish(run, closeFailed, await this.#closeDependencies())
    })()
    return this.#report
  }

  readonly onGoAway = (fn: GoAwayListener): () => void => {
    return this.#goAway.on(fn)
  }

  readonly addCleanup = (phase: CleanupPhase, name: string, fn: () => unknown, timeoutMs?: number): void => {
    this.#cleanup.add(phase, name, fn, timeoutMs)
  }

  readonly abort = (reason: string): void => {
    this.#cutRemaining(this.#timeline ??= new Timeline(this.#app.log, this.#clock), reason)
  }

  readonly announce = (reason: string, options: DrainRunOptions): void => {
    this.#announced ??= { reason, options }
  }

  readonly progress = (): DrainProgress | undefined => {
    if (this.#http === undefined || this.#timeline === undefined) return undefined
    return drainProgress(this.trackers, this.#finalDurationMs ?? this.#timeline.elapsedMs, this.#cut.length)
  }

  readonly retiredBy = (): Readonly<Record<string, number>> => {
    return retiredBy(this.trackers)
  }

  // An app.close() someone else calls drains HTTP before Fastify's own close
  // handler starts: that handler marks the app closing (from then on every
  // request gets Fastify's 503 with its default return503OnClosing) and runs
  // preClose hooks under pluginTimeout (10 s by default; a longer hook is
  // abandoned, and Fastify goes on closing idle sockets and running onClose
  // hooks while requests are in flight). The preClose hook only matters for
  // an app closed before it was ever ready: nothing listens then.
  #hookIntoClose (): void {
    const app = this.#app
    const drainForClose = (): Promise<HttpRun> =>
      this.#drainHttp(this.#announced?.reason ?? 'app.close() called', this.#announced?.options ?? PROMPT_DRAIN)
    app.addHook('onReady', async () => { (app as unknown as CloseQueue).onClose(drainForClose) })
    // Resolving with a value would be taken as the hook's error.
    app.addHook('preClose', async () => { await drainForClose() })
    // After Fastify's close handler: HTTP is drained, the listener closed.
    app.addHook('onClose', async () => {
      // The dependencies close after the last connection, whichever close
      // handler ran first: awaited here rather than assumed from avvio's order.
      const run = await drainForClose()
      const results = await this.#closeDependencies()
      // When app.close() was the entry, nothing else completes the report; and
      // whoever called app.close() may exit right after it: the timeline's end
      // is written first.
      if (this.#report === undefined) {
        this.#report = Promise.resolve(this.#finish(run, false, results))
        await logWritten(app.log)
      }
    })
  }

  /** The HTTP part of the drain, once, whichever entry comes first. */
  #drainHttp (reason: string, options: DrainRunOptions): Promise<HttpRun> {
    this.#http ??= this.#runHttp(reason, options)
    return this.#http
  }

  async #runHttp (reason: string, options: DrainRunOptions): Promise<HttpRun> {
    const t = this.#timeline = new Timeline(this.#app.log, this.#clock)
    const { config, trackers } = this
    await runHttpDrain({
      trackers,
      clock: this.#clock,
      timeline: t,
      readinessOff: () => { this.#lifecycle.advance('draining') },
      goAway: () => this.#goAway.fire(),
      stopConsumers: () => { this.#cleanup.startConsumers() },
      closeListener: () => {
        this.#lifecycle.advance('closing')
        // net.Server's close stops accepting without http.Server's
        // closeIdleConnections(): closing idle keep-alive sockets races clients.
        if (this.#app.server.listening) NetServer.prototype.close.call(this.#app.server)
      },
      cutSignal: this.#cutNow.signal,
      cutRemaining: (why) => { this.#cutRemaining(t, why) },
      httpDeadlineMs: config.httpDeadlineMs
    }, {
      reason,
      // A pod that never was ready was never an endpoint: nothing to wait for.
      delayMs: options.delayMs ?? (this.#lifecycle.state === 'ready' ? config.delayMs : 0),
      idleCloseMs: options.idleCloseMs ?? config.idleCloseMs,
      spacingMs: config.idleCloseSpacingMs
    })
    return { t, reason }
  }

  /** After HTTP has drained: the dependencies, in phase order, once; resolves with their outcomes. */
  #closeDependencies (): Promise<readonly CleanupResult[]> {
    this.#dependencies ??= (async () => {
      this.#lifecycle.advance('closing')
      const results = await this.#cleanup.runAfterHttp(this.config.cleanupTimeoutMs)
      this.#lifecycle.advance('stopped')
      return results
    })()
    return this.#dependencies
  }

  #cutRemaining (t: Timeline, why: string): void {
    if (this.#cutNow.signal.aborted) return
    const requests = cutAll(this.trackers)
    this.#cut.push(...requests)
    const forced = this.#http1.endings.forced
    const forcedSessions = this.#http2.endings.forced
    t.error('cut', `${why}: cut ${forced} connection(s) and ${forcedSessions} HTTP/2 session(s) with ${requests.length} request(s) in flight`, {
      reason: why, forced, forcedSessions, requests
    })
    this.#cutNow.abort()
  }

  /** `cleanup`: the dependencies' outcomes. */
  #finish ({ t, reason }: HttpRun, closeFailed: boolean, cleanup: readonly CleanupResult[]): DrainReport {
    const discarded = this.trackers.flatMap((tr) => tr.discarded)
    if (discarded.length > 0) {
      t.error('cut', `${discarded.length} pipelined request(s) read after their connection's last response could not be answered`, { reason: 'pipelined after Connection: close', requests: discarded })
      this.#cut.push(...discarded)
    }
    const result = buildReport({
      reason, durationMs: t.elapsedMs, http1: this.#http1, http2: this.#http2, trackers: this.trackers, cut: this.#cut, closeFailed, cleanup
    })
    this.#finalDurationMs = result.durationMs
    t.info('stopped', result.clean ? 'drain finished clean' : 'drain finished, not clean', { ...result })
    return result
  }
}
