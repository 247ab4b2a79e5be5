// The example service's entry point: build the app, then hand the process to
// listen(), which turns SIGTERM into the drain and exits when it is over.
// Run in exec form (the image: `CMD ["node", ..., "examples/service/build/server.js"]`
// under tini; locally `node --import tsx examples/service/server.ts`), never
// through `npm start`: npm does not forward SIGTERM.
import { listen } from 'fastify-zero-downtime'
import { buildApp } from './app.js'

const env = process.env
const { PORT = '3000', HOST = '0.0.0.0' } = env
const app = await buildApp(env)
await listen(app, { port: Number(PORT), host: HOST })
