/**
 * http-terminator set up as its README shows
 * (https://github.com/gajus/http-terminator#usage-with-fastify): an
 * http-terminator for `app.server`, and `await httpTerminator.terminate()`
 * instead of closing the server. Its README says nothing about signals,
 * readiness or Kubernetes (nor a delay), so SIGTERM calls `terminate()`
 * at once. `terminate()` answers in-flight requests with
 * `connection: close`, destroys every socket without a request at once, and
 * destroys the rest after `gracefulTerminationTimeout`: its README says
 * 5000 ms by default, the code of the version tested uses 1000 ms
 * (createInternalHttpTerminator.js), and this recipe keeps the default as
 * the README's example does. http-terminator "does not terminate the
 * Node.js process": with the server closed nothing else keeps it alive.
 *
 * Readiness: no route for it; the matrix probes `/`.
 */
import { createHttpTerminator } from 'http-terminator'
import { createApp, host, port, serveRoutes } from '../routes.js'

const app = createApp()
serveRoutes(app)

await app.listen({ port, host })

const httpTerminator = createHttpTerminator({ server: app.server })

process.once('SIGTERM', () => {
  void httpTerminator.terminate()
})
