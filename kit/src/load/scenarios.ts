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
import type { Load, RequestSource, RequestSpec, Target } from './target.js'
import { DEFAULT_TRAFFIC, mixOr, type Route, type Traffic } from './traffic.js'
import { undiciLoop } from './undici-client.js'
import { webSocketClients } from './websocket-client.js'

/** How the preflight tries a request: plain HTTP/1.1, as an SSE stream, as a WebSocket upgrade, or over h2c. */
export type ProbeVia = 'h1' | 'sse' | 'ws' | 'h2'

/** A request a scenario will send, tried once before the run; `advice` says how to fix it when it is not there. */
export interface Probe {
  readonly request: RequestSpec
  readonly via: ProbeVia
  readonly advice: string
}

export interface Scenario {
  readonly name: string
  readonly description: string
  /** Overrides the preStop sleep (ms) for this scenario; the service reads it from PRESTOP_SLEEP_SECONDS. */
  readonly preStopSleepMs?: number
  /** What the clients speak (default h1); `rollout --protocol h2` runs the h2 ones by default. */
  readonly protocol?: Protocol
  /** Left out of `rollout`'s default set (the example service has no such route): run when named in --scenarios. */
  readonly optIn?: boolean
  /** The requests it will send, for the preflight. */
  readonly probes: (traffic: Traffic) => readonly Probe[]
  readonly start: (target: Target, shape: LoadShape) => Promise<Load> | Load
}

/** How a run sizes, paces and aims a scenario's clients: resolved once per run from the CLI flags. */
export interface LoadShape {
  /** Multiplies every client count (at least one client each). */
  readonly scale: number
  /** Where think times come from (Math.random, or `seededRandom(--seed)` for a repeatable sequence). */
  readonly random: () => number
  /** The routes and the requests file's mix. */
  readonly traffic: Traffic
  /** Where draws from the mix come from: its own generator, so draws and think times repeat apart. */
  readonly draw: () => number
}

const size = (n: number, scale: number): number => Math.max(1, Math.round(n * scale))

/** The route's own request. */
const only = (route: Route, via: ProbeVia): Probe[] => [{ request: route.request, via, advice: `point it with ${route.flag} or leave it out` }]

/** The mix's requests when there is one (the scenario draws from it), else the route's. */
const mixed = (traffic: Traffic, route: Route, via: ProbeVia): Probe[] => traffic.mix === undefined
  ? only(route, via)
  : traffic.mix.map((request) => ({ request, via, advice: `fix it in ${traffic.mixFile as string} or leave the scenario out` }))

const fromMix = (s: LoadShape, route: Route): RequestSource => mixOr(s.traffic, route, s.draw)

export const SCENARIOS: readonly Scenario[] = Object.freeze([
  {
    name: 'keep-alive',
    description: 'autocannon, 20 keep-alive connections, the fast route (GET / unless --fast-path; never the requests file)',
    probes: (t) => only(t.fast, 'h1'),
    start: async (t, s) => await autocannonLoad(t, size(20, s.scale), s.traffic.fast.request.path)
  },
  {
    name: 'hot-loop',
    description: '50 keep-alive clients in a tight loop, the fast route (GET /) or the requests file',
    probes: (t) => mixed(t, t.fast, 'h1'),
    start: (t, s) => closedLoop(t, { connections: size(50, s.scale), request: fromMix(s, s.traffic.fast) })
  },
  {
    name: 'slow',
    description: '40 clients, the slow route (GET /slow?ms=2000 unless --slow-path), in flight across SIGTERM',
    probes: (t) => only(t.slow, 'h1'),
    start: (t, s) => closedLoop(t, { connections: size(40, s.scale), request: s.traffic.slow.request })
  },
  {
    name: 'post',
    description: '20 keep-alive clients, the POST route (POST /echo with a 1 KB JSON body unless --post-path, --post-body)',
    probes: (t) => only(t.post, 'h1'),
    start: (t, s) => closedLoop(t, { connections: size(20, s.scale), request: s.traffic.post.request })
  },
  {
    name: 'idle-pool',
    description: "200 clients sharing one node:http Agent's keep-alive pool (LIFO, no idle timeout), random think time up to 1.5 s; the fast route or the requests file",
    probes: (t) => mixed(t, t.fast, 'h1'),
    start: (t, s) => closedLoop(t, { connections: size(200, s.scale), request: fromMix(s, s.traffic.fast), thinkMs: 1500, sharedPool: true, random: s.random })
  },
  {
    name: 'idle-pool-undici',
    description: "the idle pool with undici (Node's fetch) instead: one Pool, which honours Keep-Alive: timeout=",
    probes: (t) => mixed(t, t.fast, 'h1'),
    start: (t, s) => undiciLoop(t, { connections: size(200, s.scale), request: fromMix(s, s.traffic.fast), thinkMs: 1500, sharedPool: true, random: s.random })
  },
  {
    name: 'sse',
    description: '10 Server-Sent Events streams (GET /events unless --sse-path); reconnect on the retry hint, a cut stream is a drop',
    probes: (t) => only(t.sse, 'sse'),
    start: (t, s) => sseStreams(t, size(10, s.scale), s.traffic.sse.request.path)
  },
  {
    name: 'websocket',
    description: '10 WebSocket connections (GET /ws unless --websocket-path; only when named in --scenarios); a close with 1001 Going Away is a clean hand-over, a cut connection is a drop',
    optIn: true,
    probes: (t) => only(t.websocket, 'ws'),
    start: (t, s) => webSocketClients(t, size(10, s.scale), s.traffic.websocket.request.path)
  },
  {
    name: 'grpc',
    description: 'gRPC-style h2c: 4 sessions x 16 concurrent streams, the h2 route (GET / unless --h2-path) or the requests file; a new session when told to go away',
    protocol: 'h2',
    probes: (t) => mixed(t, t.h2, 'h2'),
    start: (t, s) => grpcStyle(t, { sessions: size(4, s.scale), streams: 16, request: fromMix(s, s.traffic.h2) })
  },
  {
    name: 'grpc-slow',
    description: 'gRPC-style h2c: 2 sessions x 20 streams, the slow route (GET /slow?ms=2000 unless --slow-path), in flight across SIGTERM',
    protocol: 'h2',
    probes: (t) => only(t.slow, 'h2'),
    start: (t, s) => grpcStyle(t, { sessions: size(2, s.scale), streams: 20, request: s.traffic.slow.request })
  },
  {
    name: 'grpc-no-prestop',
    description: 'gRPC-style h2c with no preStop hook: 4 sessions x 16 concurrent streams, the h2 route or the requests file; SIGTERM at deletion, while the balancer still routes to the pod',
    preStopSleepMs: 0,
    protocol: 'h2',
    probes: (t) => mixed(t, t.h2, 'h2'),
    start: (t, s) => grpcStyle(t, { sessions: size(4, s.scale), streams: 16, request: fromMix(s, s.traffic.h2) })
  },
  {
    name: 'no-prestop',
    description: 'no preStop hook: the in-app drain delay must cover endpoint propagation; 30 clients, the fast route (GET /) or the requests file',
    preStopSleepMs: 0,
    probes: (t) => mixed(t, t.fast, 'h1'),
    start: (t, s) => closedLoop(t, { connections: size(30, s.scale), request: fromMix(s, s.traffic.fast) })
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

/** A different stream from the same seed for the mix's draws (the think times use the seed itself). */
const DRAW_SEED_MIX = 0x9E3779B9

/**
 * A scenario's scale, routes and random sources. Each run gets its own
 * generators from the seed, so a scenario draws the same think times and the
 * same requests from the mix whatever ran before it (the service and the
 * baseline alike). Only the draws repeat: the order in which the clients'
 * timers fire and the pods' timing are still the machine's.
 */
export function loadShape (scale: number, seed: number | undefined, traffic: Traffic = DEFAULT_TRAFFIC): LoadShape {
  return seed === undefined
    ? { scale, random: Math.random, traffic, draw: Math.random }
    : { scale, random: seededRandom(seed), traffic, draw: seededRandom((seed ^ DRAW_SEED_MIX) >>> 0) }
}
