/**
 * A plugin-style app for fastify-cli, started with `fastify start`, which
 * closes it on SIGTERM through close-with-grace and `app.close()`: the plugin
 * drains from there like under its own listen(). What `fastify start` needs:
 *
 *   fastify start --close-grace-delay 29000 --options --address 0.0.0.0 app.js
 *
 * `--close-grace-delay`: close-with-grace exits 1 that long after SIGTERM,
 * 500 ms by default, far shorter than the drain (the plugin warns at startup).
 * Give it grace period - preStop - margin / 2 (29000 for 30 s, no preStop;
 * 24000 with a 5 s preStop); `FASTIFY_CLOSE_GRACE_DELAY` works too.
 * `--options` makes fastify-cli read the server options exported below.
 *
 * TypeScript as-is for this repo's tests and rollouts:
 *   node --import tsx node_modules/fastify-cli/cli.js start -g 29000 -o -a 0.0.0.0 examples/fastify-cli/app.ts
 */
import type { FastifyInstance } from 'fastify'
import zeroDowntime from 'fastify-zero-downtime'

/**
 * Fastify server options, read by `fastify start --options`.
 * `return503OnClosing: false`: the drain is over before Fastify marks itself
 * closing, so nothing reaches its closing 503s; turned off all the same, so
 * a request that ever did would still be served.
 */
export const options = { return503OnClosing: false }

const SLOW_MAX_MS = 9000

export default async function app (fastify: FastifyInstance, _opts: unknown): Promise<void> {
  await fastify.register(zeroDowntime)
  const version = process.env.VERSION ?? 'dev'
  fastify.get('/', async () => ({ hello: 'world', version, pid: process.pid }))
  fastify.get<{ Querystring: { ms?: number } }>('/slow', {
    schema: { querystring: { type: 'object', properties: { ms: { type: 'integer', minimum: 0 } } } }
  }, async (request) => {
    const ms = Math.min(request.query.ms ?? 1000, SLOW_MAX_MS)
    await new Promise((resolve) => { setTimeout(resolve, ms) })
    return { waitedMs: ms, version }
  })
  fastify.post('/echo', async (request) => request.body)
}
