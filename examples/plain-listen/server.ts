// The example service started with Fastify's own app.listen() and nothing
// else: no listen() helper, no signal handler. Registering the plugin is
// enough: on SIGTERM it drains (readiness 503, Connection: close, drain delay,
// connections retired, cleanups in order) and then ends the process by
// SIGTERM itself (exit 1 if the drain had to cut something).
//   PORT=3000 node --import tsx examples/plain-listen/server.ts
import { buildApp } from '../service/app.js'

const { PORT = '3000', HOST = '0.0.0.0' } = process.env
const app = await buildApp(process.env)
await app.listen({ port: Number(PORT), host: HOST })
