/**
 * @godaddy/terminus set up as its README says for Kubernetes
 * (https://github.com/godaddy/terminus#how-to-set-terminus-up-with-kubernetes):
 * a `/healthcheck` route (README "Usage") that answers 503 from SIGTERM on,
 * `beforeShutdown` waiting 5 s ("given your readiness probes run every 5
 * second") and `useExit0: true`. `createTerminus` takes the Node server, so
 * it gets Fastify's (`app.server`, created with the app; terminus wraps its
 * request listener). Everything else is terminus's default: `timeout` 1000 ms
 * (stoppable's grace: sockets still open 1 s after the listener closed are
 * destroyed) and no `onSignal` cleanup (nothing to clean up here).
 *
 * Readiness: `/healthcheck`.
 */
import { createTerminus } from '@godaddy/terminus'
import { setTimeout as sleep } from 'node:timers/promises'
import { createApp, host, port, serveRoutes } from '../routes.js'

const app = createApp()
serveRoutes(app)

createTerminus(app.server, {
  healthChecks: { '/healthcheck': async () => {} },
  beforeShutdown: async () => { await sleep(5000) },
  useExit0: true
})

await app.listen({ port, host })
