// The HTTP part of the drain (src/drain/run.ts) as one linear run, on a fake
// clock with fake transport trackers, in process: the order of its steps, the
// drain delay, the idle closes each tracker asks for, "quiet" across both
// transports, and the hard deadline. Real sockets and real SIGTERM are tested
// elsewhere (drain-*.test.ts); here only time and order matter.
import { EventEmitter } from 'node:events'
import t from 'tap'
import type { FastifyBaseLogger } from 'fastify'
import { cutAll, runHttpDrain, PROGRESS_INTERVAL_MS, type HttpRunParts } from '../src/drain/run.js'
import { Timeline } from '../src/drain/timeline.js'
import type { CutRequest, IdleClose, TrackedConnection, TransportCounts, TransportEndings, TransportEvents, TransportTracker } from '../src/drain/transport.js'
import { FakeClock, settle } from './helpers/fake-clock.js'

class FakeTracker extends EventEmitter<TransportEvents> implements TransportTracker {
  readonly kind: 'http1' | 'http2'
  connectionsLeft: number
  idleClosing = 0
  /** What closeIdle answers next (ms until its next look), shifted per call. */
  nextLooks: Array<number | undefined> = []
  readonly looks: number[] = []
  /** What the next look does besides answering (closes a stalled connection, say). */
  onLook: () => void = () => {}
  started: IdleClose | undefined
  endings: TransportEndings = { served: 0, retired: 0, closedByClient: 0, idleClosed: 0, stalledClosed: 0, forced: 0 }
  readonly retiredBy = {}
  readonly discarded: readonly CutRequest[] = []
  readonly #clock: FakeClock
  readonly #log: string[]
  constructor (kind: 'http1' | 'http2', connections: number, clock: FakeClock, log: string[]) {
    super()
    this.kind = kind
    this.connectionsLeft = connections
    this.#clock = clock
    this.#log = log
  }

  get counts (): TransportCounts { return { connections: this.connectionsLeft, inFlight: 0 } }
  connections (): Iterable<TrackedConnection> { return [] }
  retire (): boolean { return false }
  startRetiring (idle: IdleClose): void {
    this.started = idle
    this.#log.push(`${this.kind} retiring`)
  }

  closeIdle (): number | undefined {
    this.looks.push(this.#clock.now())
    this.onLook()
    this.onLook = () => {}
    return this.nextLooks.shift()
  }

  cut (): CutRequest[] {
    this.endings = { ...this.endings, forced: this.connectionsLeft }
    this.connectionsLeft = 0
    return [{ method: 'GET', url: `/${this.kind}`, ageMs: 1 }]
  }

  /** A connection leaves. */
  leave (): void {
    this.connectionsLeft--
    this.emit('change')
  }
}

interface Setup {
  clock: FakeClock
  steps: string[]
  logs: Array<Record<string, unknown>>
  http1: FakeTracker
  http2: FakeTracker
  cut: AbortController
  parts: HttpRunParts
}

function setup (connections: [number, number], httpDeadlineMs = 10_000): Setup {
  const clock = new FakeClock(1000)
  const steps: string[] = []
  const logs: Array<Record<string, unknown>> = []
  const log = {
    info: (fields: Record<string, unknown>, msg: string) => { logs.push({ ...fields, msg }) },
    error: (fields: Record<string, unknown>, msg: string) => { logs.push({ ...fields, msg, level: 'error' }) }
  } as unknown as FastifyBaseLogger
  const http1 = new FakeTracker('http1', connections[0], clock, steps)
  const http2 = new FakeTracker('http2', connections[1], clock, steps)
  const cut = new AbortController()
  const parts: HttpRunParts = {
    trackers: [http1, http2],
    clock,
    timeline: new Timeline(log, clock),
    readinessOff: () => { steps.push('readiness off') },
    goAway: () => { steps.push('go away'); return 2 },
    stopConsumers: () => { steps.push('consumers') },
    closeListener: () => { steps.push(`listener closed at ${clock.now()}`) },
    cutSignal: cut.signal,
    cutRemaining: (why) => {
      if (cut.signal.aborted) return
      steps.push(`cut at ${clock.now()}: ${why}`)
      http1.cut()
      http2.cut()
      cut.abort()
    },
    httpDeadlineMs
  }
  return { clock, steps, logs, http1, http2, cut, parts }
}

/** Tracks whether the run resolved, without awaiting it. */
function track (run: Promise<void>): { done: boolean } {
  const state = { done: false }
  void run.then(() => { state.done = true })
  return state
}

t.test('top to bottom: readiness off, retiring, delay, listener closed, quiet once both transports have no connection left', async (t) => {
  const { clock, steps, logs, http1, http2, parts } = setup([1, 1])
  const run = track(runHttpDrain(parts, { reason: 'SIGTERM', delayMs: 3000, idleCloseMs: 5000, spacingMs: 250 }))
  await settle()
  t.same(steps, ['readiness off', 'http1 retiring', 'http2 retiring', 'go away', 'consumers'])
  t.same(http1.started, { reason: 'SIGTERM', delayMs: 3000, idleCloseMs: 5000, spacingMs: 250 }, 'the idle close options reach each tracker')
  await clock.advanceTo(3999)
  t.notOk(steps.some((s) => s.startsWith('listener closed')), 'the delay holds the listener open')
  await clock.advanceTo(4000)
  t.ok(steps.includes('listener closed at 4000'), 'closed when the delay is over')
  t.same(http1.looks, [4000], 'the first idle look right after the listener closed')
  http1.leave()
  await settle()
  t.notOk(run.done, 'HTTP/2 still has a session')
  t.same(http1.looks, [4000, 4000], 'each change is a reason to look again')
  http2.leave()
  await settle()
  t.ok(run.done, 'quiet: no connection on any transport')
  t.same(clock.pending, [], 'the deadline and every timer of the run are cancelled')
  t.same(logs.map((l) => l.drain), ['signal', 'readiness-off', 'delay-over', 'listener-closed', 'http-drained'])
  t.match(logs.find((l) => l.drain === 'readiness-off'), { connections: 2, inFlight: 0, http1: { connections: 1 }, http2: { connections: 1 }, goAways: 2 })
  t.match(logs.at(-1), { drainMs: 3000, http1: { forced: 0 }, http2: { forced: 0 } })
})

t.test('the next idle look is when the soonest tracker asks for it', async (t) => {
  const { clock, http1, http2, logs, parts } = setup([2, 1])
  http1.nextLooks = [500, undefined]
  http2.nextLooks = [200, undefined, undefined]
  const run = track(runHttpDrain(parts, { reason: 'SIGTERM', delayMs: 0, idleCloseMs: 100, spacingMs: 250 }))
  await clock.advanceTo(1000)
  t.same(http2.looks, [1000])
  await clock.advanceTo(1199)
  t.same(http2.looks, [1000], 'not before')
  http1.idleClosing = 1
  await clock.advanceTo(1200)
  t.same(http2.looks, [1000, 1200], 'the sooner of 500 and 200 ms')
  t.equal(logs.filter((l) => l.drain === 'idle-closed').length, 1, 'idle closing is logged once it starts')
  http1.onLook = () => { http1.endings = { ...http1.endings, stalledClosed: 1 } }
  http1.leave()
  await settle()
  t.match(logs.filter((l) => l.drain === 'idle-closed').at(-1), { stalled: 1, msg: /closed 1 connection\(s\) whose request headers stayed incomplete for 100 ms/ }, 'a look that closed a stalled connection says so')
  http1.leave()
  http2.leave()
  await settle()
  t.ok(run.done)
})

t.test('a connection that never leaves is cut at the hard deadline; progress is logged meanwhile', async (t) => {
  const { clock, steps, logs, http1, parts } = setup([1, 0], 2500)
  const run = track(runHttpDrain(parts, { reason: 'SIGTERM', delayMs: 0, idleCloseMs: 5000, spacingMs: 250 }))
  await clock.advanceTo(3499)
  t.notOk(run.done)
  t.equal(logs.filter((l) => l.drain === 'progress').length, 2, `one progress line every ${PROGRESS_INTERVAL_MS} ms`)
  await clock.advanceTo(3500)
  t.ok(run.done, 'the cut ends the wait')
  t.match(steps.at(-1), /^cut at 3500: hard deadline 2500 ms after drain start/)
  t.equal(http1.endings.forced, 1)
  t.same(clock.pending, [], 'nothing left scheduled')
  t.notOk(logs.some((l) => l.drain === 'http-drained' && l.level === 'error'))
})

t.test('a cut during the delay (a second signal) ends the delay and the wait at once', async (t) => {
  const { clock, steps, parts } = setup([1, 1])
  const run = track(runHttpDrain(parts, { reason: 'SIGTERM', delayMs: 5000, idleCloseMs: 5000, spacingMs: 250 }))
  await clock.advanceTo(2000)
  parts.cutRemaining('second signal')
  await settle()
  t.ok(run.done)
  t.ok(steps.includes('listener closed at 2000'), 'the listener still closes, at the cut')
  t.same(clock.pending, [])
})

t.test('nothing to wait for: a run with no connection and no delay is quiet at once', async (t) => {
  const { clock, parts } = setup([0, 0])
  const run = track(runHttpDrain(parts, { reason: 'app.close() called', delayMs: 0, idleCloseMs: 0, spacingMs: 0 }))
  await clock.advanceTo(1000)
  t.ok(run.done)
})

t.test('a cut before the run starts waits for nothing', async (t) => {
  const { clock, cut, parts } = setup([1, 1])
  cut.abort()
  const run = track(runHttpDrain(parts, { reason: 'SIGTERM', delayMs: 5000, idleCloseMs: 5000, spacingMs: 250 }))
  await clock.advanceTo(1000)
  t.ok(run.done)
})

t.test('cutAll cuts every transport and returns their requests in tracker order', async (t) => {
  const { http1, http2 } = setup([1, 2])
  t.same(cutAll([http1, http2]).map((r) => r.url), ['/http1', '/http2'])
  t.same([http1.endings.forced, http2.endings.forced], [1, 2])
})

t.test('the timeline writes errors with the elapsed milliseconds of its clock', async (t) => {
  const { clock, logs, parts } = setup([0, 0])
  await clock.advanceTo(1250)
  parts.timeline.error('cut', 'boom', { n: 1 })
  t.match(logs, [{ drain: 'cut', drainMs: 250, n: 1, msg: 'boom', level: 'error' }])
})
