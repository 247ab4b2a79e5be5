/**
 * The routes every recipe serves, the same as the example service
 * (examples/service/app.ts) so the kit's scenarios call the same thing on
 * every recipe: GET /, GET /slow?ms=N, POST /echo, GET /events (SSE). Only the
 * shutdown wiring differs from one recipe file to the next.
 *
 * The pod's environment comes from the kit: PORT, HOST, VERSION, and HTTP2=1
 * under `--protocol h2` (h2c with prior knowledge, as examples/http2 serves).
 */
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'

/** Longest wait /slow accepts, as in the example service. */
const SLOW_MAX_MS = 9000
const TICK_MS = 500

export const port = Number(process.env.PORT ?? 3000)
export const host = process.env.HOST ?? '0.0.0.0'
export const version = process.env.VERSION ?? 'dev'

/**
 * Fastify with the options every recipe shares. Every recipe logs at `warn`
 * (LOG_LEVEL overrides it) so that none pays for request logging the others
 * skip: the matrix compares dropped requests, not speed.
 */
export function createApp (): FastifyInstance {
  const options: FastifyServerOptions = { logger: { level: process.env.LOG_LEVEL ?? 'warn' } }
  // `http2: true` changes Fastify's server type; the routes below do not care which.
  return Fastify(process.env.HTTP2 === '1' ? { ...options, http2: true } as FastifyServerOptions : options)
}

/** An event stream as the routes see it: what an SSE ending needs to write. */
export interface EventStream {
  write (chunk: string): unknown
  end (): unknown
}

/**
 * Ends one event stream when the pod starts to drain (`stopTicking` first),
 * returning the function that forgets it when the stream closes on its own.
 * Only a recipe whose library has a drain signal passes one; the others'
 * streams end when their process does.
 */
export type EndStreamOnDrain = (stream: EventStream, stopTicking: () => void) => () => void

export function serveRoutes (app: FastifyInstance, endStreamOnDrain?: EndStreamOnDrain): void {
  app.get('/', async () => ({ hello: 'world', version, pid: process.pid }))

  app.get<{ Querystring: { ms?: number } }>('/slow', {
    schema: { querystring: { type: 'object', properties: { ms: { type: 'integer', minimum: 0 } } } }
  }, async (request) => {
    const ms = Math.min(request.query.ms ?? 1000, SLOW_MAX_MS)
    await new Promise((resolve) => { setTimeout(resolve, ms) })
    return { waitedMs: ms, version }
  })

  app.post('/echo', async (request) => ({ echo: request.body ?? null, version }))

  app.get('/events', (request, reply) => {
    reply.hijack()
    const res = reply.raw
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' })
    let n = 0
    const tick = setInterval(() => { res.write(`event: tick\ndata: ${JSON.stringify({ n: n++, version })}\n\n`) }, TICK_MS)
    const unregister = endStreamOnDrain?.(res, () => { clearInterval(tick) })
    request.raw.on('close', () => {
      clearInterval(tick)
      unregister?.()
    })
    res.write(`event: hello\ndata: ${JSON.stringify({ version })}\n\n`)
  })
}
