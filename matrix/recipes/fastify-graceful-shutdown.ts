/**
 * fastify-graceful-shutdown set up as its README shows
 * (https://github.com/hemerajs/fastify-graceful-shutdown#usage): the plugin
 * registered, and a `gracefulShutdown` handler added in `after()`. On SIGTERM
 * (or SIGINT) it runs the handlers, then `fastify.close()`, then exits 0;
 * it exits 1 after `timeout` (10 s by default) whatever happens. Its README
 * has no Kubernetes section and no delay: `close()` starts at SIGTERM.
 *
 * Readiness: no route for it; the matrix probes `/`.
 */
import gracefulShutdown from 'fastify-graceful-shutdown'
import { createApp, host, port, serveRoutes } from '../routes.js'

const app = createApp()
await app.register(gracefulShutdown)
app.after(() => {
  app.gracefulShutdown(async (signal) => {
    app.log.info('Received signal to shutdown: %s', signal)
  })
})
serveRoutes(app)

await app.listen({ port, host })
