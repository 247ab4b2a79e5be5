/**
 * Fastify with close-with-grace the way the Fastify project ships it: the
 * server file that `fastify-cli` generates (`fastify generate`, and
 * `fastify eject`: templates/eject/server.js of fastify-cli 8) and that the
 * fastify/demo application uses (src/server.ts):
 *
 *   closeWithGrace({ delay: process.env.FASTIFY_CLOSE_GRACE_DELAY || 500 },
 *     async function ({ signal, err, manual }) { ...; await app.close() })
 *
 * On SIGTERM `app.close()` runs at once: Fastify answers 503 to requests
 * that arrive while it closes (`return503OnClosing`), closes idle keep-alive
 * sockets, and close-with-grace exits the process 500 ms after the signal
 * whatever is still in flight. No readiness route, no delay for endpoint
 * propagation (close-with-grace's README has no Kubernetes section).
 *
 * Readiness: the matrix probes `/`.
 */
import closeWithGrace from 'close-with-grace'
import { createApp, host, port, serveRoutes } from '../routes.js'

const app = createApp()
serveRoutes(app)

closeWithGrace({ delay: Number(process.env.FASTIFY_CLOSE_GRACE_DELAY ?? 500) }, async ({ err }) => {
  if (err !== undefined) app.log.error(err)
  await app.close()
})

await app.listen({ port, host })
