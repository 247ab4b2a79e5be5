/**
 * The drain sequence, from SIGTERM (or `drain()`) to a stopped app:
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
 */
import { Server as NetServer } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import type { FastifyInstance } from 'fastify'
import { describeError } from '../health/scrub.js'
import type { Lifecycle } from '../lifecycle.js'
import { durationMs } from '../options.js'
import { CleanupRegistry, type CleanupPhase, type CleanupResult } from './cleanup.js'
import type { DrainConfig } from './config.js'
import { ConnectionTracker, type ConnectionStats, type CutRequest } from './connections.js'
import { GoAwayRegistry, type GoAwayListener } from './long-lived.js'
import { Timeline } from './timeline.js'

/** How often the timeline reports what is left while connections retire. */
const PROGRESS_INTERVAL_MS = 1000

export interface DrainRunOptions {
  /** Overrides the configured drain delay for this run (an uncaught error drains with 0). */
  delayMs?: number
}

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
  readonly config: DrainConfig
}

/** Where `listen()` finds the controller of an app (the public face is `app.zeroDowntime`). */
export const kDrainController = Symbol.for('fastify-zero-downtime.drain')

export function drainControllerOf (app: FastifyInstance): DrainController | undefined {
  return (app as unknown as Record<symbol, DrainController | undefined>)[kDrainController]
}

export function installDrain (app: FastifyInstance, lifecycle: Lifecycle, config: DrainConfig): DrainController {
  const tracker = new ConnectionTracker(app.server)
  const goAway = new GoAwayRegistry(app.log)
  const cleanup = new CleanupRegistry(app.log, config.cleanupTimeoutMs)
  const cutNow = new AbortController()
  const cut: CutRequest[] = []
  let cleanupResults: readonly CleanupResult[] = []
  let running: Promise<DrainReport> | undefined
  let timeline: Timeline | undefined

  // Runs on app.close(), which the drain calls once no connection is left;
  // also when the app is closed directly (tests, embedding).
  app.addHook('onClose', async () => {
    lifecycle.advance('closing')
    cleanupResults = await cleanup.runAfterHttp(config.cleanupTimeoutMs)
    lifecycle.advance('stopped')
  })

  function cutRemaining (t: Timeline, why: string): void {
    if (cutNow.signal.aborted) return
    const requests = tracker.cut()
    cut.push(...requests)
    t.error('cut', `${why}: cut ${tracker.stats.forced} connection(s) with ${requests.length} request(s) in flight`, {
      reason: why, forced: tracker.stats.forced, requests
    })
    cutNow.abort()
  }

  /** Resolves once no connection is left, closing those that stay idle; or when the deadline cut them. */
  function httpDrained (t: Timeline): Promise<void> {
    return new Promise((resolve) => {
      let idleTimer: NodeJS.Timeout | undefined
      const progress = setTimeout(() => {
        t.info('progress', 'connections left', { ...tracker.counts })
        progress.refresh()
      }, PROGRESS_INTERVAL_MS).unref()
      const done = (): void => {
        clearTimeout(idleTimer)
        clearTimeout(progress)
        tracker.onChange = () => {}
        cutNow.signal.removeEventListener('abort', done)
        resolve()
      }
      const closeIdle = (): void => {
        idleTimer = undefined
        const before = tracker.stats.idleClosed
        const nextDueMs = tracker.closeIdle(config.idleCloseMs)
        const closed = tracker.stats.idleClosed - before
        if (closed > 0) t.info('idle-closed', `closed ${closed} connection(s) idle for ${config.idleCloseMs} ms`, { closed })
        if (nextDueMs !== undefined) idleTimer = setTimeout(closeIdle, nextDueMs).unref()
      }
      tracker.onChange = () => {
        if (tracker.counts.connections === 0) done()
        // A connection that just became idle is due last; only schedule when nothing is.
        else if (idleTimer === undefined) closeIdle()
      }
      cutNow.signal.addEventListener('abort', done)
      if (cutNow.signal.aborted) done()
      else tracker.onChange()
    })
  }

  async function run (reason: string, options: DrainRunOptions): Promise<DrainReport> {
    const t = timeline = new Timeline(app.log)
    const delayMs = options.delayMs ?? config.delayMs
    lifecycle.advance('draining')
    t.info('signal', `drain started: ${reason}`, {
      reason, delayMs, idleCloseMs: config.idleCloseMs, deadlineMs: config.httpDeadlineMs
    })
    tracker.startRetiring()
    const goAways = goAway.fire()
    t.info('readiness-off', 'readiness answers 503; every response now carries Connection: close', {
      ...tracker.counts, goAways
    })
    cleanup.startConsumers()
    const deadline = setTimeout(() => {
      cutRemaining(t, `hard deadline ${config.httpDeadlineMs} ms after drain start`)
    }, config.httpDeadlineMs).unref()

    // Ref'ed: the delay is part of the drain, which must run to its end even
    // when nothing else holds the event loop (an app that never listened).
    await sleep(delayMs, undefined, { signal: cutNow.signal }).catch(() => {})
    t.info('delay-over', 'drain delay over', { ...tracker.counts })
    lifecycle.advance('closing')
    // net.Server's close stops accepting without http.Server's
    // closeIdleConnections(): closing idle keep-alive sockets races clients.
    if (app.server.listening) NetServer.prototype.close.call(app.server)
    t.info('listener-closed', 'listener closed: no new connections; keep-alive connections retire after their next response', { ...tracker.counts })
    await httpDrained(t)
    clearTimeout(deadline)
    t.info('http-drained', 'HTTP drained: no connection left', { ...tracker.stats })

    let closeFailed = false
    try {
      await app.close()
    } catch (err) {
      closeFailed = true
      t.error('close-error', 'app.close() failed', { error: describeError(err) })
    }
    const { discarded } = tracker
    if (discarded.length > 0) {
      t.error('cut', `${discarded.length} pipelined request(s) read after their connection's last response could not be answered`, { reason: 'pipelined after Connection: close', requests: discarded })
      cut.push(...discarded)
    }
    const { servedDuringDrain, ...connections } = tracker.stats
    const report: DrainReport = Object.freeze({
      clean: cut.length === 0 && connections.forced === 0 && !closeFailed && cleanupResults.every((r) => r.outcome === 'ok'),
      reason,
      durationMs: t.elapsedMs,
      servedDuringDrain,
      connections,
      cut,
      cleanup: cleanupResults
    })
    t.info('stopped', report.clean ? 'drain finished clean' : 'drain finished, not clean', { ...report })
    return report
  }

  const controller: DrainController = {
    drain (reason = 'drain() called', options = {}) {
      // Thrown, not a rejection: a delay past a timer's limit would fire at once.
      durationMs(options.delayMs, 'drain() option "delayMs"', true)
      running ??= run(reason, options)
      return running
    },
    onGoAway: (fn) => goAway.on(fn),
    addCleanup: (phase, name, fn, timeoutMs) => { cleanup.add(phase, name, fn, timeoutMs) },
    abort (reason) {
      cutRemaining(timeline ??= new Timeline(app.log), reason)
    },
    config
  }
  app.decorate(kDrainController, controller)
  return controller
}
