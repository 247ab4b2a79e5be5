/**
 * lightship set up as its README says (https://github.com/gajus/lightship,
 * "Usage examples / Using with Express.js" and "Timeouts"): `signalReady()`
 * once the server listens and a shutdown handler that closes the server; on
 * SIGTERM lightship fails readiness, waits `shutdownDelay` (5 s in
 * Kubernetes; the README: "should match readinessProbe.periodSeconds"),
 * runs the handler (at most `shutdownHandlerTimeout`, 5 s) and exits. For
 * Fastify the handler is `app.close()`, Fastify's way of closing its server.
 *
 * Two things differ from a pod, both because every replica runs on one
 * machine here. `detectKubernetes: false` keeps lightship in its Kubernetes
 * mode (its README: detection "can be overridden" that way; otherwise, with
 * no KUBERNETES_SERVICE_HOST, it would run in local mode with no delay).
 * `port: 0` gives lightship's own probe server a free port instead of 9000,
 * which the replicas would share. The kit probes the service's own port,
 * so this recipe serves `/ready` there with lightship's readiness state
 * (`isServerReady()`), the same 200 / 500 as lightship's own `/ready`.
 *
 * Readiness: `/ready` (lightship's state).
 */
import { createLightship } from 'lightship'
import { createApp, host, port, serveRoutes } from '../routes.js'

const lightship = await createLightship({ detectKubernetes: false, port: 0 })

const app = createApp()
serveRoutes(app)
app.get('/ready', async (request, reply) => {
  if (lightship.isServerReady()) return 'SERVER_IS_READY'
  return await reply.code(500).send('SERVER_IS_NOT_READY')
})

lightship.registerShutdownHandler(async () => {
  await app.close()
})

await app.listen({ port, host })
lightship.signalReady()
