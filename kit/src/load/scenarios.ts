/**
 * The traffic shapes that break the usual shutdown recipes (see
 * docs/load-test.md and the measurements behind them). Each runs for a whole
 * rolling update; sizes are per run and fit a 2-core machine.
 */
import type { Protocol } from '../network/protocol.js'
import { autocannonLoad } from './autocannon-load.js'
import { grpcStyle } from './h2-client.js'
import { closedLoop } from './http-client.js'
import { seededRandom } from './seeded-random.js'
import { sseStreams } from './sse-client.js'
import type { Load, Target } from './target.js'
import { undiciLoop } from './undici-client.js'

export interface Scenario {
  readonly name: string
  readonly description: string
  /** Overrides the preStop sleep (ms) for this scenario; the service reads it from PRESTOP_SLEEP_SECONDS. */
  readonly preStopSleepMs?: number
  /** What the clients speak (default h1); `rollout --protocol h2` runs the h2 ones by default. */
  readonly protocol?: Protocol
  readonly start: (target: Target, shape: LoadShape) => Promise<Load> | Load
}

/** How a run sizes and paces a scenario's clients: resolved once per run from the CLI flags. */
export interface LoadShape {
  /** Multiplies every client count (at least one client each). */
  readonly scale: number
  /** Where think times come from (Math.random, or `seededRandom(--seed)` for a repeatable sequence). */
  readonly random: () => number
}

const size = (n: number, scale: number): number => Math.max(1, Math.round(n * scale))

const BODY = JSON.stringify({ order: 'x'.repeat(1000), items: [1, 2, 3] })

export const SCENARIOS: readonly Scenario[] = Object.freeze([
  {
    name: 'keep-alive',
    description: 'autocannon, 20 keep-alive connections, GET /',
    start: async (t, s) => await autocannonLoad(t, size(20, s.scale), '/')
  },
  {
    name: 'hot-loop',
    description: '50 keep-alive clients in a tight loop, GET /',
    start: (t, s) => closedLoop(t, { connections: size(50, s.scale), request: { method: 'GET', path: '/' } })
  },
  {
    name: 'slow',
    description: '40 clients, GET /slow?ms=2000 (in flight across SIGTERM)',
    start: (t, s) => closedLoop(t, { connections: size(40, s.scale), request: { method: 'GET', path: '/slow?ms=2000' } })
  },
  {
    name: 'post',
    description: '20 keep-alive clients, POST /echo with a 1 KB JSON body',
    start: (t, s) => closedLoop(t, { connections: size(20, s.scale), request: { method: 'POST', path: '/echo', body: BODY } })
  },
  {
    name: 'idle-pool',
    description: "200 clients sharing one node:http Agent's keep-alive pool (LIFO, no idle timeout), random think time up to 1.5 s",
    start: (t, s) => closedLoop(t, { connections: size(200, s.scale), request: { method: 'GET', path: '/' }, thinkMs: 1500, sharedPool: true, random: s.random })
  },
  {
    name: 'idle-pool-undici',
    description: "the idle pool with undici (Node's fetch) instead: one Pool, which honours Keep-Alive: timeout=",
    start: (t, s) => undiciLoop(t, { connections: size(200, s.scale), request: { method: 'GET', path: '/' }, thinkMs: 1500, sharedPool: true, random: s.random })
  },
  {
    name: 'sse',
    description: '10 Server-Sent Events streams; reconnect on the retry hint, a cut stream is a drop',
    start: (t, s) => sseStreams(t, size(10, s.scale))
  },
  {
    name: 'grpc',
    description: 'gRPC-style h2c: 4 sessions x 16 concurrent streams, GET /; a new session when told to go away',
    protocol: 'h2',
    start: (t, s) => grpcStyle(t, { sessions: size(4, s.scale), streams: 16, request: { method: 'GET', path: '/' } })
  },
  {
    name: 'grpc-slow',
    description: 'gRPC-style h2c: 2 sessions x 20 streams, GET /slow?ms=2000 (in flight across SIGTERM)',
    protocol: 'h2',
    start: (t, s) => grpcStyle(t, { sessions: size(2, s.scale), streams: 20, request: { method: 'GET', path: '/slow?ms=2000' } })
  },
  {
    name: 'grpc-no-prestop',
    description: 'gRPC-style h2c with no preStop hook: 4 sessions x 16 concurrent streams, GET /; SIGTERM at deletion, while the balancer still routes to the pod',
    preStopSleepMs: 0,
    protocol: 'h2',
    start: (t, s) => grpcStyle(t, { sessions: size(4, s.scale), streams: 16, request: { method: 'GET', path: '/' } })
  },
  {
    name: 'no-prestop',
    description: 'no preStop hook: the in-app drain delay must cover endpoint propagation; 30 clients, GET /',
    preStopSleepMs: 0,
    start: (t, s) => closedLoop(t, { connections: size(30, s.scale), request: { method: 'GET', path: '/' } })
  }
])

/** Picks scenarios by name; throws naming the unknown ones and the valid choices. */
export function selectScenarios (names: readonly string[]): Scenario[] {
  const unknown = names.filter((n) => !SCENARIOS.some((s) => s.name === n))
  if (unknown.length > 0) {
    throw new TypeError(`unknown scenario ${unknown.join(', ')}; choose from ${SCENARIOS.map((s) => s.name).join(', ')}`)
  }
  return SCENARIOS.filter((s) => names.includes(s.name))
}

/**
 * A scenario's scale and think-time source. Each run gets its own generator
 * from the seed, so a scenario draws the same think times whatever ran
 * before it (the service and the baseline alike). Only the think times
 * repeat: the order in which the clients' timers fire and the pods' timing
 * are still the machine's.
 */
export function loadShape (scale: number, seed: number | undefined): LoadShape {
  return { scale, random: seed === undefined ? Math.random : seededRandom(seed) }
}
