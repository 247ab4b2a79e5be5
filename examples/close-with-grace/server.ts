// The example service with Fastify's documented shutdown recipe:
// close-with-grace calling app.close(). The plugin sees close-with-grace
// own SIGTERM (installed here after listen; before app.register would do as
// well) and drains inside that app.close(), before Fastify marks itself
// closing. close-with-grace's own `delay` must outlast the drain (Fastify's
// docs show 500 ms, which kills it mid-drain): grace period - preStop -
// margin / 2, here from the same env variables the plugin reads.
//   PORT=3000 node --import tsx examples/close-with-grace/server.ts
import closeWithGrace from 'close-with-grace'
import { buildApp } from '../service/app.js'

const { PORT = '3000', HOST = '0.0.0.0', TERMINATION_GRACE_PERIOD_SECONDS = '30', PRESTOP_SLEEP_SECONDS = '0' } = process.env
// Not needed with the plugin (Fastify's closing 503s come after the drain);
// off all the same, so that a late request would still be served.
const app = await buildApp(process.env, { return503OnClosing: false })
await app.listen({ port: Number(PORT), host: HOST })

const delay = (Number(TERMINATION_GRACE_PERIOD_SECONDS) - Number(PRESTOP_SLEEP_SECONDS) - 1) * 1000
closeWithGrace({ delay }, async ({ err }) => {
  if (err !== undefined) app.log.error({ err }, 'uncaught error: closing')
  await app.close()
})
