/**
 * The HTTP part of the drain, read top to bottom like Go's `Server.Shutdown`:
 *
 *   readiness off   readiness 503, every transport retires its connections
 *                   (Connection: close, GOAWAY), SSE/WebSockets told to go
 *                   away, consumers stop; requests are still served
 *   drain delay     endpoint removal reaches kube-proxy / ingress meanwhile
 *   listener closed no new connection (idle ones are NOT closed here: that
 *                   races pooled clients, see connections.ts)
 *   transports quiet every tracker has no connection left, closing those
 *                   that stay idle; or the hard deadline cuts what is left
 *
 * What comes after (Fastify's close, the dependencies, the report) is
 * install.ts's, because an `app.close()` someone else calls enters there.
 * Time comes from one injected clock, so this whole run is tested on a fake
 * clock with fake trackers (test/drain-run.test.ts).
 */
import type { Clock } from '../clock.js'
import type { Timeline } from './timeline.js'
import type { CutRequest, IdleClose, TransportEndings, TransportTracker } from './transport.js'

/** How often the timeline reports what is left while connections retire. */
export const PROGRESS_INTERVAL_MS = 1000

export interface HttpRunParts {
  readonly trackers: readonly TransportTracker[]
  readonly clock: Clock
  readonly timeline: Timeline
  /** Readiness 503 from now on (lifecycle `draining`). */
  readonly readinessOff: () => void
  /** Tells SSE streams and WebSockets to go away; returns how many listeners there were. */
  readonly goAway: () => number
  readonly stopConsumers: () => void
  /** Lifecycle `closing`, and the listener closed. */
  readonly closeListener: () => void
  /** Aborted by a cut (deadline, second signal): the run stops waiting. */
  readonly cutSignal: AbortSignal
  /** Cuts what is left, once (`why` is logged). */
  readonly cutRemaining: (why: string) => void
  readonly httpDeadlineMs: number
}

export interface HttpRunOptions extends IdleClose {
  readonly reason: string
  readonly delayMs: number
}

/** Open connections and requests of every transport added up, and per transport, for the timeline. */
export function transportCounts (trackers: readonly TransportTracker[]): Record<string, unknown> {
  let connections = 0
  let inFlight = 0
  for (const tr of trackers) {
    connections += tr.counts.connections
    inFlight += tr.counts.inFlight
  }
  return { connections, inFlight, ...Object.fromEntries(trackers.map((tr) => [tr.kind, tr.counts])) }
}

export async function runHttpDrain (p: HttpRunParts, o: HttpRunOptions): Promise<void> {
  const { trackers, timeline: t } = p
  const counts = (): Record<string, unknown> => transportCounts(trackers)
  t.info('signal', `drain started: ${o.reason}`, { reason: o.reason, delayMs: o.delayMs, idleCloseMs: o.idleCloseMs, deadlineMs: p.httpDeadlineMs })
  p.readinessOff()
  for (const tracker of trackers) tracker.startRetiring(o)
  const goAways = p.goAway()
  t.info('readiness-off', 'readiness answers 503; every response now carries Connection: close, every HTTP/2 session gets GOAWAY', { ...counts(), goAways })
  p.stopConsumers()
  const cancelDeadline = p.clock.after(p.httpDeadlineMs, () => { p.cutRemaining(`hard deadline ${p.httpDeadlineMs} ms after drain start`) }, false)

  // Kept alive: the delay is part of the drain, which must run to its end
  // even when nothing else holds the event loop.
  await wait(p.clock, o.delayMs, p.cutSignal, true)
  t.info('delay-over', 'drain delay over', counts())

  p.closeListener()
  t.info('listener-closed', 'listener closed: no new connections; keep-alive connections retire after their next response', counts())

  await transportsQuiet(p, o.idleCloseMs)
  cancelDeadline()
  t.info('http-drained', 'HTTP drained: no connection left', { ...totalEndings(trackers), ...Object.fromEntries(trackers.map((tr) => [tr.kind, tr.endings])) })
}

/** Resolves after `ms` on `clock`, or at once when `signal` aborts. */
function wait (clock: Clock, ms: number, signal: AbortSignal, keepAlive: boolean): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) {
      resolve()
      return
    }
    const done = (): void => {
      cancel()
      signal.removeEventListener('abort', done)
      resolve()
    }
    const cancel = clock.after(ms, done, keepAlive)
    signal.addEventListener('abort', done)
  })
}

/**
 * Resolves once no tracker has a connection left, asking each to close its
 * idle ones whenever something changed or one of them asked for another
 * look; or when a cut ended the wait.
 */
function transportsQuiet (p: HttpRunParts, idleCloseMs: number): Promise<void> {
  const { trackers, clock, timeline: t } = p
  return new Promise((resolve) => {
    let cancelLook = (): void => {}
    let idleLogged = false
    let cancelProgress = (): void => {}
    const progress = (): void => {
      t.info('progress', 'connections left', transportCounts(trackers))
      cancelProgress = clock.after(PROGRESS_INTERVAL_MS, progress, false)
    }
    cancelProgress = clock.after(PROGRESS_INTERVAL_MS, progress, false)
    const look = (): void => {
      cancelLook()
      cancelLook = () => {}
      const stalledBefore = stalled(trackers)
      let nextMs: number | undefined
      for (const tracker of trackers) {
        const ms = tracker.closeIdle()
        if (ms !== undefined) nextMs = nextMs === undefined ? ms : Math.min(nextMs, ms)
      }
      // Once, not per connection: HTTP/1.x closes them one at a time per client address.
      if (!idleLogged && trackers.some((tr) => tr.idleClosing + tr.endings.idleClosed > 0)) {
        idleLogged = true
        t.info('idle-closed', `closing connections idle for ${idleCloseMs} ms, one at a time per client address`, transportCounts(trackers))
      }
      const stalledNow = stalled(trackers) - stalledBefore
      if (stalledNow > 0) t.info('idle-closed', `closed ${stalledNow} connection(s) whose request headers stayed incomplete for ${idleCloseMs} ms`, { stalled: stalledNow })
      if (nextMs !== undefined) cancelLook = clock.after(nextMs, look, false)
    }
    const done = (): void => {
      cancelLook()
      cancelProgress()
      for (const tracker of trackers) tracker.off('change', changed)
      p.cutSignal.removeEventListener('abort', done)
      resolve()
    }
    function changed (): void {
      if (trackers.every((tr) => tr.counts.connections === 0)) done()
      // A closed connection may be the client's answer to an idle close the
      // next one of its address waits for: look again at once.
      else look()
    }
    for (const tracker of trackers) tracker.on('change', changed)
    p.cutSignal.addEventListener('abort', done)
    if (p.cutSignal.aborted) done()
    else changed()
  })
}

function stalled (trackers: readonly TransportTracker[]): number {
  let n = 0
  for (const tr of trackers) n += tr.endings.stalledClosed
  return n
}

/** Every transport's endings, added up. */
export function totalEndings (trackers: readonly TransportTracker[]): TransportEndings {
  const total = { served: 0, retired: 0, closedByClient: 0, idleClosed: 0, stalledClosed: 0, forced: 0 }
  for (const tracker of trackers) {
    const e = tracker.endings
    for (const key of Object.keys(total) as Array<keyof TransportEndings>) total[key] += e[key]
  }
  return total
}

/** Every tracker's requests, cut now. */
export function cutAll (trackers: readonly TransportTracker[]): CutRequest[] {
  return trackers.flatMap((tr) => tr.cut())
}
