// The example service over HTTP/2 (h2c, prior knowledge), as a gRPC-style or
// mesh-facing service runs behind a proxy that speaks h2 to its pods. Same
// app as examples/service; the drain tells each session to go away with
// GOAWAY (docs/drain.md#http2). `npm run rollout -- --protocol h2` drives it.
import type { FastifyServerOptions } from 'fastify'
import { listen } from 'fastify-zero-downtime'
import { buildApp } from '../service/app.js'

const env = process.env
const { PORT = '3000', HOST = '0.0.0.0' } = env
const app = await buildApp(env, { http2: true } as FastifyServerOptions)
await listen(app, { port: Number(PORT), host: HOST })
