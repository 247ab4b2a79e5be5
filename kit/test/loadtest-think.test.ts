// Think time is drawn from an injectable source: a seeded one gives the same
// think-time sequence every run, so no test has to reason about Math.random;
// `--seed` hands one to the scenarios that think.
import { once } from 'node:events'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import { Recorder, type Outcome } from '../src/load/accounting.js'
import { clientLoops } from '../src/load/client-loops.js'
import { loadShape, selectScenarios } from '../src/load/scenarios.js'
import { seededRandom } from '../src/load/seeded-random.js'

const THINK_MS = 2
const PAUSES = 20

/**
 * The first PAUSES think times (ms) one client of `clientLoops` paused for,
 * drawn from `random`: every request is answered 200 at once, so each pause
 * is think time only (no failure backoff).
 */
async function thinkTimes (random: () => number): Promise<number[]> {
  const pauses: number[] = []
  let enough: () => void = () => {}
  const drawn = new Promise<void>((resolve) => { enough = resolve })
  const load = clientLoops(
    {
      connections: 1,
      request: { method: 'GET', path: '/' },
      thinkMs: THINK_MS,
      random: () => {
        const r = random()
        pauses.push(r * THINK_MS)
        if (pauses.length === PAUSES) enough()
        return r
      }
    },
    async (): Promise<Outcome> => ({ kind: 'response', status: 200 }),
    () => {}
  )
  await drawn
  await load.stop()
  return pauses.slice(0, PAUSES)
}

t.test('the same seed gives the same think-time sequence', async (t) => {
  const first = await thinkTimes(seededRandom(42))
  const again = await thinkTimes(seededRandom(42))
  t.equal(first.length, PAUSES, 'the client drew its think time from the injected source')
  t.same(again, first, 'same seed, same sequence')
  t.ok(first.every((ms) => ms >= 0 && ms < THINK_MS), 'every think time within [0, thinkMs)')
  t.ok(new Set(first).size > 1, 'the think times vary')
  t.notSame(await thinkTimes(seededRandom(43)), first, 'another seed, another sequence')
})

t.test('seededRandom: numbers in [0, 1), one sequence per seed', async (t) => {
  const a = seededRandom(7)
  const b = seededRandom(7)
  const xs = Array.from({ length: 1000 }, () => a())
  t.same(Array.from({ length: 1000 }, () => b()), xs)
  t.ok(xs.every((x) => x >= 0 && x < 1))
})

t.test('the idle-pool scenarios draw their think times from the run\'s load shape', async (t) => {
  const server = createServer((req, res) => { req.resume(); res.end('ok') })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => { server.closeAllConnections(); server.close() })
  const port = (server.address() as AddressInfo).port
  for (const scenario of selectScenarios(['idle-pool', 'idle-pool-undici'])) {
    // What `--seed 42` gives a run, recorded as the scenario's clients draw it.
    const seeded = loadShape(0.001, 42).random
    const drawn: number[] = []
    let enough: () => void = () => {}
    const done = new Promise<void>((resolve) => { enough = resolve })
    const random = (): number => {
      const r = seeded()
      drawn.push(r)
      if (drawn.length === 3) enough()
      return r
    }
    const recorder = new Recorder(() => 0)
    const load = await scenario.start({ host: '127.0.0.1', port, recorder, podFor: () => undefined, requestTimeoutMs: 2000 }, { ...loadShape(0.001, 42), random })
    await done
    await load.stop()
    const expected = seededRandom(42)
    t.same(drawn.slice(0, 3), [expected(), expected(), expected()], `${scenario.name}: think times from seededRandom(42)`)
    t.ok(recorder.counts.ok >= 3, `${scenario.name}: one request before each think time`)
  }
  t.equal(loadShape(1, undefined).random, Math.random, 'no seed: Math.random')
})
