/**
 * Plain Fastify, no shutdown handling at all: `app.listen()` and nothing else,
 * as the Getting Started guide of Fastify ends
 * (https://fastify.dev/docs/latest/Guides/Getting-Started/). No SIGTERM
 * handler, so Node's default action ends the process the moment SIGTERM
 * arrives: in-flight requests and idle keep-alive sockets go with it.
 *
 * Readiness: no route for it; the matrix probes `/` (it only decides when a
 * new pod starts taking traffic).
 */
import { createApp, host, port, serveRoutes } from '../routes.js'

const app = createApp()
serveRoutes(app)
await app.listen({ port, host })
