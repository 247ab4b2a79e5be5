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
 * handler that runs before Fastify's own (see `installDrain`).
 */
import { Server as NetServer } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import type { FastifyInstance } from 'fastify'
import type { ConnectionMaxAge, RetirementCounts } from '../connection-age/max-age.js'
import { describeError } from '../scrub.js'
import { logWritten } from '../log-written.js'
import type { Lifecycle } from '../lifecycle.js'
import { durationMs } from '../options.js'
import { CleanupRegistry, type CleanupPhase, type CleanupResult } from './cleanup.js'
import type { DrainConfig } from './drain-options.js'
import { ConnectionTracker, type Connection, type ConnectionStats, type CutRequest } from './connections.js'
import { Http2SessionTracker, type Http2Stats } from './http2-sessions.js'
import { IdleClosePolicy } from './idle-policy.js'
import { advertiseKeepAlive } from './keep-alive-hint.js'
import { GoAwayRegistry, type GoAwayListener } from './long-lived.js'
import { Timeline } from './timeline.js'

/** How often the timeline reports what is left while connections retire. */
const PROGRESS_INTERVAL_MS = 1000

export interface DrainRunOptions {
  /** Overrides the configured drain delay for this run (an uncaught error drains with 0). */
  delayMs?: number
  /** Overrides `drain.idleCloseMs` for this run (0: idle connections close at once). */
  idleCloseMs?: number
}

/**
 * A drain with no endpoint to wait for: no delay, idle connections closed at
 * once, like Fastify's own close; in-flight requests still finish with
 * `Connection: close` and the cleanups run in order. How an `app.close()`
 * that no termination signal announced drains (a test's teardown, an
 * embedding app), and a developer's Ctrl-C outside Kubernetes.
 */
export const PROMPT_DRAIN: Readonly<DrainRunOptions> = Object.freeze({ delayMs: 0, idleCloseMs: 0 })

export interface DrainReport {
  /** True when nothing had to be cut at the deadline and every cleanup succeeded. */
  readonly clean: boolean
  readonly reason: string
  /** From drain start to stopped. */
  readonly durationMs: number
  readonly servedDuringDrain: number
  readonly connections: Omit<ConnectionStats, 'servedDuringDrain'>
  /**
   * Requests still in flight when the deadline (or a second signal) cut them,
   * and pipelined ones read after their connection's last response (never answered).
   */
  readonly cut: readonly CutRequest[]
  /** HTTP/2 sessions and streams (all zero on an HTTP/1.1-only server); `connections` counts HTTP/1.x only. */
  readonly http2: Http2Stats
  /** HTTP/1.x connections and HTTP/2 sessions retired while the pod served (since it started), by reason. */
  readonly retiredByReason: RetirementCounts
  readonly cleanup: readonly CleanupResult[]
}

export interface DrainController {
  /** Runs the whole drain once; later calls return the same promise. Never rejects (a bad `delayMs` throws a TypeError). */
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
  /** Connections and sessions retired while serving, by reason (both protocols), read when metrics are scraped. */
  retirements (): RetirementCounts
  readonly config: DrainConfig
}

/** The drain's counts while it runs (the report's, before there is one). */
export interface DrainProgress extends ConnectionStats {
  /** Since drain start; frozen at the report's value once stopped. */
  readonly durationMs: number
  /** Requests cut so far (see `DrainReport.cut`). */
  readonly cut: number
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

/** `maxAge`: connections retire by age while the pod serves, through the same trackers (connection-age/max-age.ts). */
export function installDrain (app: FastifyInstance, lifecycle: Lifecycle, config: DrainConfig, maxAge?: ConnectionMaxAge): DrainController {
  const tracker = new ConnectionTracker(app.server, Date.now, maxAge)
  advertiseKeepAlive(app.server, config.idleCloseMs)
  const h2 = new Http2SessionTracker(app.server, { tlsTransport: config.http2TlsTransport, maxAge })
  const retirements = (): RetirementCounts => ({ max_age: tracker.retirements.max_age + h2.retirements.max_age, max_age_grace_cut: h2.retirements.max_age_grace_cut })
  /** Open connections and requests of both protocols, for the timeline. */
  const counts = (): Record<string, number> => ({ ...tracker.counts, ...h2.counts })
  const goAway = new GoAwayRegistry(app.log)
  const cleanup = new CleanupRegistry(app.log, config.cleanupTimeoutMs)
  const cutNow = new AbortController()
  const cut: CutRequest[] = []
  let http: Promise<HttpRun> | undefined
  let dependencies: Promise<readonly CleanupResult[]> | undefined
  let report: Promise<DrainReport> | undefined
  let announced: { reason: string, options: DrainRunOptions } | undefined
  let timeline: Timeline | undefined
  let finalDurationMs: number | undefined

  /** The HTTP part of the drain, once, whichever entry comes first. */
  function drainHttp (reason: string, options: DrainRunOptions): Promise<HttpRun> {
    http ??= runHttp(reason, options)
    return http
  }

  function drainForClose (): Promise<HttpRun> {
    return drainHttp(announced?.reason ?? 'app.close() called', announced?.options ?? PROMPT_DRAIN)
  }

  /** After HTTP has drained: the dependencies, in phase order, once; resolves with their outcomes. */
  function closeDependencies (): Promise<readonly CleanupResult[]> {
    dependencies ??= (async () => {
      lifecycle.advance('closing')
      const results = await cleanup.runAfterHttp(config.cleanupTimeoutMs)
      lifecycle.advance('stopped')
      return results
    })()
    return dependencies
  }

  // An app.close() someone else calls drains HTTP before Fastify's own close
  // handler starts: that handler marks the app closing (from then on every
  // request gets Fastify's 503 with its default return503OnClosing) and runs
  // preClose hooks under pluginTimeout (10 s by default; a longer hook is
  // abandoned, and Fastify goes on closing idle sockets and running onClose
  // hooks while requests are in flight). The preClose hook only matters for
  // an app closed before it was ever ready: nothing listens then.
  app.addHook('onReady', async () => { (app as unknown as CloseQueue).onClose(drainForClose) })
  // Resolving with a value would be taken as the hook's error.
  app.addHook('preClose', async () => { await drainForClose() })
  // After Fastify's close handler: HTTP is drained, the listener closed.
  app.addHook('onClose', async () => {
    // The dependencies close after the last connection, whichever close
    // handler ran first: awaited here rather than assumed from avvio's order.
    const run = await drainForClose()
    const results = await closeDependencies()
    // When app.close() was the entry, nothing else completes the report; and
    // whoever called app.close() may exit right after it: the timeline's end
    // is written first.
    if (report === undefined) {
      report = Promise.resolve(finish(run, false, results))
      await logWritten(app.log)
    }
  })

  function cutRemaining (t: Timeline, why: string): void {
    if (cutNow.signal.aborted) return
    const requests = [...tracker.cut(), ...h2.cut()]
    cut.push(...requests)
    t.error('cut', `${why}: cut ${tracker.stats.forced} connection(s) and ${h2.stats.forced} HTTP/2 session(s) with ${requests.length} request(s) in flight`, {
      reason: why, forced: tracker.stats.forced, forcedSessions: h2.stats.forced, requests
    })
    cutNow.abort()
  }

  /** Resolves once no connection is left, closing those that stay idle; or when the deadline cut them. */
  function httpDrained (t: Timeline, idleCloseMs: number): Promise<void> {
    return new Promise((resolve) => {
      let idleTimer: NodeJS.Timeout | undefined
      let idleClosing = false
      const policy = new IdleClosePolicy<Connection>({ idleCloseMs, spacingMs: config.idleCloseSpacingMs })
      const progress = setTimeout(() => {
        t.info('progress', 'connections left', counts())
        progress.refresh()
      }, PROGRESS_INTERVAL_MS).unref()
      const done = (): void => {
        clearTimeout(idleTimer)
        clearTimeout(progress)
        tracker.off('change', changed)
        h2.off('change', changed)
        cutNow.signal.removeEventListener('abort', done)
        resolve()
      }
      const closeIdle = (): void => {
        clearTimeout(idleTimer)
        idleTimer = undefined
        const { stalledClosed } = tracker.stats
        const beforeSessions = h2.stats.idleClosed
        const nextConnection = tracker.closeIdle(policy, idleCloseMs)
        const nextSession = h2.closeIdle(idleCloseMs)
        const nextDueMs = nextConnection === undefined || nextSession === undefined ? nextConnection ?? nextSession : Math.min(nextConnection, nextSession)
        const stalled = tracker.stats.stalledClosed - stalledClosed
        // Once, not per connection: they close one at a time per client address.
        if (!idleClosing && policy.closing + tracker.stats.idleClosed > 0) {
          idleClosing = true
          t.info('idle-closed', `closing connections idle for ${idleCloseMs} ms, one at a time per client address`, counts())
        }
        if (stalled > 0) t.info('idle-closed', `closed ${stalled} connection(s) whose request headers stayed incomplete for ${idleCloseMs} ms`, { stalled })
        const sessions = h2.stats.idleClosed - beforeSessions
        if (sessions > 0) t.info('idle-closed', `sent GOAWAY to ${sessions} HTTP/2 session(s) idle for ${idleCloseMs} ms`, { sessions })
        if (nextDueMs !== undefined) idleTimer = setTimeout(closeIdle, nextDueMs).unref()
      }
      function changed (): void {
        if (tracker.counts.connections === 0 && h2.counts.sessions === 0) done()
        // A closed connection may be the client's answer to an idle close the
        // next one of its address waits for: look again at once.
        else closeIdle()
      }
      tracker.on('change', changed)
      h2.on('change', changed)
      cutNow.signal.addEventListener('abort', done)
      if (cutNow.signal.aborted) done()
      else changed()
    })
  }

  async function runHttp (reason: string, options: DrainRunOptions): Promise<HttpRun> {
    const t = timeline = new Timeline(app.log)
    // A pod that never was ready was never an endpoint: nothing to wait for.
    const delayMs = options.delayMs ?? (lifecycle.state === 'ready' ? config.delayMs : 0)
    const idleCloseMs = options.idleCloseMs ?? config.idleCloseMs
    lifecycle.advance('draining')
    t.info('signal', `drain started: ${reason}`, {
      reason, delayMs, idleCloseMs, deadlineMs: config.httpDeadlineMs
    })
    tracker.startRetiring()
    h2.startRetiring()
    const goAways = goAway.fire()
    t.info('readiness-off', 'readiness answers 503; every response now carries Connection: close, every HTTP/2 session gets GOAWAY', {
      ...counts(), goAways
    })
    cleanup.startConsumers()
    const deadline = setTimeout(() => {
      cutRemaining(t, `hard deadline ${config.httpDeadlineMs} ms after drain start`)
    }, config.httpDeadlineMs).unref()

    // Ref'ed: the delay is part of the drain, which must run to its end even
    // when nothing else holds the event loop.
    await sleep(delayMs, undefined, { signal: cutNow.signal }).catch(() => {})
    t.info('delay-over', 'drain delay over', counts())
    lifecycle.advance('closing')
    // net.Server's close stops accepting without http.Server's
    // closeIdleConnections(): closing idle keep-alive sockets races clients.
    if (app.server.listening) NetServer.prototype.close.call(app.server)
    t.info('listener-closed', 'listener closed: no new connections; keep-alive connections retire after their next response', counts())
    await httpDrained(t, idleCloseMs)
    clearTimeout(deadline)
    t.info('http-drained', 'HTTP drained: no connection left', { ...tracker.stats, http2: h2.stats })
    return { t, reason }
  }

  /** `cleanupResults`: the dependencies' outcomes, empty when app.close() failed before closing them. */
  function finish ({ t, reason }: HttpRun, closeFailed: boolean, cleanupResults: readonly CleanupResult[]): DrainReport {
    const { discarded } = tracker
    if (discarded.length > 0) {
      t.error('cut', `${discarded.length} pipelined request(s) read after their connection's last response could not be answered`, { reason: 'pipelined after Connection: close', requests: discarded })
      cut.push(...discarded)
    }
    const { servedDuringDrain, ...connections } = tracker.stats
    const result: DrainReport = Object.freeze({
      clean: cut.length === 0 && connections.forced === 0 && h2.stats.forced === 0 && !closeFailed && cleanupResults.every((r) => r.outcome === 'ok'),
      reason,
      durationMs: t.elapsedMs,
      servedDuringDrain,
      connections,
      cut,
      http2: h2.stats,
      retiredByReason: retirements(),
      cleanup: cleanupResults
    })
    finalDurationMs = result.durationMs
    t.info('stopped', result.clean ? 'drain finished clean' : 'drain finished, not clean', { ...result })
    return result
  }

  const controller: DrainController = {
    drain (reason = 'drain() called', options = {}) {
      // Thrown, not a rejection: a delay past a timer's limit would fire at once.
      durationMs(options.delayMs, 'drain() option "delayMs"', true)
      report ??= (async () => {
        const run = await drainHttp(reason, options)
        let closeFailed = false
        try {
          await app.close()
        } catch (err) {
          closeFailed = true
          run.t.error('close-error', 'app.close() failed', { error: describeError(err) })
        }
        return finish(run, closeFailed, await (dependencies ?? []))
      })()
      return report
    },
    onGoAway: (fn) => goAway.on(fn),
    addCleanup: (phase, name, fn, timeoutMs) => { cleanup.add(phase, name, fn, timeoutMs) },
    abort (reason) {
      cutRemaining(timeline ??= new Timeline(app.log), reason)
    },
    announce (reason, options) {
      announced ??= { reason, options }
    },
    progress () {
      if (http === undefined || timeline === undefined) return undefined
      return { ...tracker.stats, durationMs: finalDurationMs ?? timeline.elapsedMs, cut: cut.length }
    },
    retirements,
    config
  }
  return controller
}
