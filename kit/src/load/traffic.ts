/**
 * What the scenarios send: the routes each kind of traffic goes to (the
 * example service's by default, the user's own with the route flags) and, from
 * a requests file, the weighted mix the closed-loop clients draw from. Resolved
 * once per command from its flags, frozen.
 */
import type { RequestSource, RequestSpec } from './target.js'

/** One line of a requests file: a request and how often it is drawn, relative to the others. */
export interface WeightedRequest extends RequestSpec {
  readonly weight: number
}

/** A kind of traffic's request, and the flag that points it elsewhere (for the preflight's advice). */
export interface Route {
  readonly request: RequestSpec
  readonly flag: string
}

export interface Traffic {
  /** A quick request: the hot loop, the idle pools, the no-prestop and keep-alive loads. */
  readonly fast: Route
  /** A request that is in flight across SIGTERM. */
  readonly slow: Route
  /** A request with a body. */
  readonly post: Route
  /** A Server-Sent Events stream. */
  readonly sse: Route
  /** The gRPC-style HTTP/2 streams. */
  readonly h2: Route
  /** A WebSocket endpoint (its upgrade request). */
  readonly websocket: Route
  /** A requests file's mix: the closed-loop scenarios draw from it instead of the fast route. */
  readonly mix?: readonly WeightedRequest[]
  /** The file the mix came from, for the preflight's advice. */
  readonly mixFile?: string
}

/** The example service's 1 KB order. */
export const DEFAULT_POST_BODY = JSON.stringify({ order: 'x'.repeat(1000), items: [1, 2, 3] })

export const DEFAULT_TRAFFIC: Traffic = Object.freeze({
  fast: Object.freeze({ request: Object.freeze({ method: 'GET', path: '/' }), flag: '--fast-path' }),
  slow: Object.freeze({ request: Object.freeze({ method: 'GET', path: '/slow?ms=2000' }), flag: '--slow-path' }),
  post: Object.freeze({ request: Object.freeze({ method: 'POST', path: '/echo', body: DEFAULT_POST_BODY }), flag: '--post-path' }),
  sse: Object.freeze({ request: Object.freeze({ method: 'GET', path: '/events' }), flag: '--sse-path' }),
  h2: Object.freeze({ request: Object.freeze({ method: 'GET', path: '/' }), flag: '--h2-path' }),
  websocket: Object.freeze({ request: Object.freeze({ method: 'GET', path: '/ws' }), flag: '--websocket-path' })
})

/**
 * The requests of a closed-loop scenario that would send `route`: a draw
 * from the mix on every send when there is one (weighted, numbers from
 * `random`), else the route's own request.
 */
export function mixOr (traffic: Traffic, route: Route, random: () => number): RequestSource {
  const mix = traffic.mix
  if (mix === undefined) return route.request
  const total = mix.reduce((sum, r) => sum + r.weight, 0)
  const head = mix.slice(0, -1)
  const last = mix[mix.length - 1] as WeightedRequest
  return () => {
    let left = random() * total
    for (const r of head) {
      left -= r.weight
      if (left < 0) return r
    }
    // Also what rounding leaves over when the draw was close to the total.
    return last
  }
}
