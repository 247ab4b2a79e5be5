import type { FastifyInstance, FastifyReply, FastifyRequest, RouteShorthandOptions } from 'fastify'
import type { ResolvedPaths } from './options.js'
import { HEALTH_JSON, liveness, readiness, single, startup, type ProbeAnswer, type ProbeState, type ReportQuery } from './report.js'
import { trusted, type DetailPolicy } from './trust.js'

/** What the probe routes read of the resolved options. */
export interface ProbeRoutesConfig {
  readonly paths: ResolvedPaths
  readonly logProbes: boolean
  /** `Retry-After` (seconds) on a 503 probe. */
  readonly probeRetryAfterSeconds: number
  readonly probeDetail: DetailPolicy
}

/**
 * Route config that exempts a route from load shedding: @fastify/under-pressure
 * calls a route's own `pressureHandler`, and one that returns nothing lets
 * the request through. Declared by the probes, so it holds for the plugin's
 * shedding and for an under-pressure instance the app registered itself.
 */
export const exemptFromShedding = Object.freeze({ pressureHandler: (): undefined => undefined })

const entrySchema = {
  type: 'object',
  properties: {
    componentType: { type: 'string' },
    observedValue: { type: 'number' },
    observedUnit: { type: 'string' },
    status: { type: 'string', enum: ['pass', 'warn', 'fail'] },
    time: { type: 'string' },
    output: { type: 'string' }
  }
} as const

const bodySchema = {
  type: 'object',
  description: 'application/health+json (IETF draft "Health Check Response Format for HTTP APIs")',
  properties: {
    status: { type: 'string', enum: ['pass', 'warn', 'fail'] },
    output: { type: 'string' },
    notes: { type: 'array', items: { type: 'string' } },
    checks: { type: 'object', additionalProperties: { type: 'array', items: entrySchema } }
  }
} as const

/** HEAD explicitly, so probes answer it even when the app sets `exposeHeadRoutes: false`. */
const METHODS = ['GET', 'HEAD']

/** What an untrusted caller's parameters amount to: nothing (ignored, never honoured). */
const STATUS_ONLY: ReportQuery = Object.freeze({ verbose: false, exclude: new Set<string>() })

/** Array indices only: how `qs` hands over an array past its `arrayLimit` (`?a=1&a=2...` 21 times and more). */
const INDEX = /^(?:0|[1-9]\d{0,8})$/

/** A parameter's strings: a string, or the strings of an array (or of an object of indices); any other shape counts as absent. */
function strings (value: unknown): string[] {
  if (typeof value === 'string') return [value]
  let list: unknown[] = []
  if (Array.isArray(value)) list = value
  else if (typeof value === 'object' && value !== null && Object.keys(value).every((k) => INDEX.test(k))) list = Object.values(value)
  return list.filter((v): v is string => typeof v === 'string')
}

/**
 * `?verbose`, `?verbose=1`, `?verbose=true` ask for detail, `?verbose=false`
 * and `?verbose=0` do not; repeated, the last one counts. `?exclude=a,b`,
 * repeatable. The query is whatever the app's parser made of it: Fastify's
 * own gives strings and arrays of strings, `qs` also objects and nested
 * arrays (`?exclude[a]=b`), a custom one anything at all. This never throws:
 * a probe (liveness above all) must answer, never fail on its query string.
 */
function parseQuery (query: unknown): ReportQuery {
  try {
    const { verbose, exclude } = (typeof query === 'object' && query !== null ? query : {}) as { verbose?: unknown, exclude?: unknown }
    const last = strings(verbose).at(-1)
    return {
      verbose: last !== undefined && last !== 'false' && last !== '0',
      exclude: new Set(strings(exclude).flatMap((v) => v.split(',')).map((v) => v.trim()).filter((v) => v !== ''))
    }
  } catch {
    // A getter or a Proxy from a custom parser: no parameters then.
    return STATUS_ONLY
  }
}

/**
 * Registers the liveness, readiness and startup routes. They answer from
 * cached state only, are exempt from load shedding, and are silent in the
 * request log unless `logProbes` is set.
 */
export function installProbeRoutes (app: FastifyInstance, config: ProbeRoutesConfig, state: () => ProbeState): void {
  const routeOptions: RouteShorthandOptions = {
    // No querystring schema: validating what a custom parser made of the query
    // would turn a probe into a 400; parseQuery reads any shape.
    schema: { response: { 200: bodySchema, 503: bodySchema, 404: bodySchema } },
    config: exemptFromShedding,
    ...(config.logProbes ? {} : { logLevel: 'silent' as const })
  }

  // Detail maps the pod's dependencies and ?exclude fakes readiness: both only
  // for callers the `probeDetail` policy trusts (see trust.ts).
  const queryOf = (request: FastifyRequest<{ Querystring: unknown }>): ReportQuery | undefined =>
    trusted(config.probeDetail, request) ? parseQuery(request.query) : undefined

  /** `query` undefined: an untrusted caller, who gets the status and no more. */
  function send (reply: FastifyReply, result: ProbeAnswer, query: ReportQuery | undefined): FastifyReply {
    reply.code(result.statusCode).type(HEALTH_JSON).header('cache-control', 'no-store')
    if (result.statusCode === 503) reply.header('retry-after', String(config.probeRetryAfterSeconds))
    return reply.send(query === undefined ? { status: result.body.status } : result.body)
  }

  const probes = [
    [config.paths.liveness, liveness],
    [config.paths.readiness, readiness],
    [config.paths.startup, startup]
  ] as const
  for (const [paths, probe] of probes) {
    for (const url of paths) {
      app.route<{ Querystring: unknown }>({
        ...routeOptions,
        method: METHODS,
        url,
        handler: async (request, reply) => {
          const query = queryOf(request)
          return send(reply, probe(state(), query ?? STATUS_ONLY), query)
        }
      })
    }
  }
  for (const url of config.paths.readiness) {
    app.route<{ Params: { check: string }, Querystring: unknown }>({
      ...routeOptions,
      method: METHODS,
      url: `${url}/:check`,
      handler: async (request, reply) => {
        const query = queryOf(request)
        const result = single(state(), request.params.check, query ?? STATUS_ONLY)
        if (result !== undefined) return send(reply, result, query)
        return reply.code(404).type(HEALTH_JSON).header('cache-control', 'no-store')
          .send({ status: 'fail', output: `no check named ${JSON.stringify(request.params.check)}` })
      }
    })
  }
}
