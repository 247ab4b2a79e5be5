/**
 * The flags that aim the load at the user's own service, shared by `rollout`
 * and `check`: a route per kind of traffic and a requests file, resolved once
 * into a frozen Traffic.
 */
import { readFile } from 'node:fs/promises'
import { readRequestsFile } from '../load/requests-file.js'
import { DEFAULT_TRAFFIC, type Route, type Traffic } from '../load/traffic.js'
import { UsageError, type Flag, type FlagValues } from './command.js'

const path = '<path>'
const group = 'your routes'
const route = (r: Route): string => r.request.path

export const TRAFFIC_FLAGS = {
  'fast-path': { type: 'string', value: path, group, default: route(DEFAULT_TRAFFIC.fast), help: 'a quick GET: hot-loop, keep-alive, idle-pool*, no-prestop' },
  'slow-path': { type: 'string', value: path, group, default: route(DEFAULT_TRAFFIC.slow), help: 'a GET that takes a while (in flight across SIGTERM): slow, grpc-slow' },
  'post-path': { type: 'string', value: path, group, default: route(DEFAULT_TRAFFIC.post), help: 'where the post scenario POSTs' },
  'post-body': { type: 'string', value: '<file>', group, help: "the post scenario's body, read from this file", shownDefault: 'a 1 KB JSON order' },
  'post-content-type': { type: 'string', value: '<type>', group, default: 'application/json', help: "the post scenario's content-type" },
  'sse-path': { type: 'string', value: path, group, default: route(DEFAULT_TRAFFIC.sse), help: 'a Server-Sent Events stream: sse' },
  'h2-path': { type: 'string', value: path, group, default: route(DEFAULT_TRAFFIC.h2), help: 'a quick request over h2c: grpc, grpc-no-prestop' },
  'websocket-path': { type: 'string', value: path, group, default: route(DEFAULT_TRAFFIC.websocket), help: 'a WebSocket endpoint: websocket (only when named in --scenarios)' },
  requests: { type: 'string', value: '<file>', group, help: 'a JSON or YAML list of requests (method, path, headers, body, weight,\nname) the closed-loop scenarios draw from instead of the fast route\n(hot-loop, idle-pool*, no-prestop; grpc* over h2); drops are counted\nper request', shownDefault: 'none' }
} as const satisfies Record<string, Flag>

/** The parsed values of the flags above, as a command's FlagValues holds them. */
type TrafficFlagValues = Pick<FlagValues<typeof TRAFFIC_FLAGS>, keyof typeof TRAFFIC_FLAGS>

function pathFlag (name: string, raw: string): string {
  if (!raw.startsWith('/')) throw new UsageError(`--${name} must be a path starting with /, got ${JSON.stringify(raw)}`)
  return raw
}

async function postBody (file: string | undefined): Promise<string> {
  if (file === undefined) return DEFAULT_TRAFFIC.post.request.body as string
  try {
    return await readFile(file, 'utf8')
  } catch (err) {
    throw new UsageError(`--post-body: cannot read ${file}: ${(err as Error).message}`)
  }
}

/** The Traffic the flags describe: each route checked, the files read. */
export async function trafficOf (f: TrafficFlagValues): Promise<Traffic> {
  const get = (name: 'fast' | 'slow' | 'sse' | 'h2' | 'websocket'): Route => Object.freeze({
    flag: `--${name}-path`,
    request: Object.freeze({ method: 'GET', path: pathFlag(`${name}-path`, f[`${name}-path`]) })
  })
  const post: Route = Object.freeze({
    flag: '--post-path',
    request: Object.freeze({ method: 'POST', path: pathFlag('post-path', f['post-path']), headers: Object.freeze({ 'content-type': f['post-content-type'] }), body: await postBody(f['post-body']) })
  })
  const mix = f.requests === undefined ? {} : { mix: await readRequestsFile(f.requests), mixFile: f.requests }
  return Object.freeze({ fast: get('fast'), slow: get('slow'), post, sse: get('sse'), h2: get('h2'), websocket: get('websocket'), ...mix })
}
