/**
 * This project's plugin with its defaults, as its README's quick start shows:
 * `app.register(zeroDowntime)` and `listen()`, which turns SIGTERM into the
 * drain and exits when it is over. The drain reads the pod's
 * TERMINATION_GRACE_PERIOD_SECONDS and PRESTOP_SLEEP_SECONDS from the
 * environment (the kit sets both, as the reference manifest does). The event
 * stream ends with a reconnect hint when the drain starts, the way
 * docs/drain.md shows (`onGoAway` + `endEventStream`).
 *
 * Readiness: `/ready`, the plugin's.
 */
import zeroDowntime, { endEventStream, listen } from 'fastify-zero-downtime'
import { createApp, host, port, serveRoutes } from '../routes.js'

const app = createApp()
await app.register(zeroDowntime)
serveRoutes(app, (stream, stopTicking) => app.zeroDowntime.onGoAway(() => {
  stopTicking()
  endEventStream(stream, { retryMs: 1000 })
}))

await listen(app, { port, host })
