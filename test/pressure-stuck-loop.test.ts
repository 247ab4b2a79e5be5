// A truly stuck event loop: CPU-bound tasks back to back, each longer than a
// sample window, so under-pressure's histogram records nothing and reports
// the delay as Infinity. The plugin sheds app routes with 503 + Retry-After
// exactly when a bare @fastify/under-pressure does, readiness reports it
// (warn by default, fail when configured), liveness never does.
import { performance } from 'node:perf_hooks'
import { setImmediate as nextTurn } from 'node:timers/promises'
import t from 'tap'
import Fastify, { type FastifyInstance } from 'fastify'
import underPressure from '@fastify/under-pressure'
import zeroDowntime from '../src/index.js'

const SAMPLE_MS = 60
/** Each task is longer than a sample window: no window sees the loop turn twice. */
const TASK_MS = 90
const ROUNDS = 60
const WANTED = 3

/** Spins for `ms`; bounded by its own count too, whatever the clock says. */
const MAX_SPINS = 50_000_000
function blockEventLoop (ms: number): void {
  const end = performance.now() + ms
  for (let i = 0; i < MAX_SPINS; i++) if (performance.now() >= end) return
}

async function app (register: (app: FastifyInstance) => Promise<void>): Promise<FastifyInstance> {
  const app = Fastify()
  await register(app)
  app.get('/work', async () => ({ ok: true }))
  await app.ready()
  return app
}

interface Round { ours: number, bare: number, ready: number, readyFail: number, health: number, output: string }

t.test('CPU-bound tasks back to back: shed like bare under-pressure; readiness reports it; liveness does not', async (t) => {
  const ours = await app(async (a) => { await a.register(zeroDowntime, { startup: 'manual', pressure: { maxEventLoopDelayMs: 50, sampleIntervalMs: SAMPLE_MS, retryAfterSeconds: 7 } }) })
  const strict = await app(async (a) => { await a.register(zeroDowntime, { startup: 'manual', pressure: { maxEventLoopDelayMs: 50, sampleIntervalMs: SAMPLE_MS, readiness: 'fail' } }) })
  const bare = await app(async (a) => { await a.register(underPressure, { maxEventLoopDelay: 50, sampleInterval: SAMPLE_MS }) })
  t.teardown(async () => { await Promise.all([ours.close(), strict.close(), bare.close()]) })
  ours.zeroDowntime.started()
  strict.zeroDowntime.started()

  const stuck = (): boolean => [ours, strict, bare].every((a) => a.memoryUsage().eventLoopDelay === Infinity)
  const rounds: Round[] = []
  // Each round: one task, then one turn of the loop (timers run: every
  // sampler reads its empty window), then the requests. A round counts only
  // when every sample was the stuck one before and after the requests.
  for (let i = 0; i < ROUNDS && rounds.length < WANTED; i++) {
    blockEventLoop(TASK_MS)
    await nextTurn()
    if (!stuck()) continue
    const [o, b, r, rf, h] = await Promise.all([ours.inject('/work'), bare.inject('/work'), ours.inject('/ready?verbose'), strict.inject('/ready'), ours.inject('/health')])
    if (!stuck()) continue
    t.equal(o.headers['retry-after'], '7')
    rounds.push({ ours: o.statusCode, bare: b.statusCode, ready: r.statusCode, readyFail: rf.statusCode, health: h.statusCode, output: r.json().output })
  }
  t.equal(rounds.length, WANTED, `${WANTED} rounds with the loop stuck in every sample`)
  for (const round of rounds) {
    t.match(round, { ours: 503, bare: 503, ready: 200, readyFail: 503, health: 200 })
    t.match(round.output, /under pressure: pressure:eventLoopDelay 60 ms \(the event loop did not turn during a whole sample window/)
  }
})
