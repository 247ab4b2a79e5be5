// Registering the plugin the wrong way fails at registration with an error
// naming this plugin and what to do: options given as a function that returns
// nothing or garbage, a `prefix` Fastify would ignore, a second registration.
import t from 'tap'
import { readFileSync } from 'node:fs'
import Fastify, { type FastifyInstance } from 'fastify'
import zeroDowntime from '../src/index.js'

const OPTIONS = /^fastify-zero-downtime: option "options" must be an object \(options given as a function must return one\), got /

t.test('options given as a function: its result is validated like options', async (t) => {
  const bad: Array<[unknown, string]> = [[undefined, 'undefined'], [null, 'null'], [5, '5'], ['{}', '"{}"'], [[], 'an array'], [new Map(), 'a Map'], [Promise.resolve({}), 'a Promise'], [new (class Opts {})(), 'an instance of Opts']]
  for (const [result, shown] of bad) {
    const app = Fastify()
    app.register(zeroDowntime, (() => result) as never)
    await t.rejects(async () => { await app.ready() }, { code: 'FST_ZD_INVALID_OPTION', message: new RegExp(OPTIONS.source + shown.replace(/[[\]"]/g, '\\$&') + '$') }, shown)
  }
  const app = Fastify()
  let parentSeen: FastifyInstance | undefined
  await app.register(zeroDowntime, (parent) => { parentSeen = parent; return { pressure: false as const, checkIntervalMs: 500 } })
  t.equal(parentSeen, app, 'Fastify hands the function the parent instance')
  t.equal(app.zeroDowntime.config.checkIntervalMs, 500, 'and the options it returns are used')
  await app.close()
})

t.test('register(zeroDowntime, { prefix }) is refused, naming "paths"', async (t) => {
  const app = Fastify()
  app.register(zeroDowntime, { prefix: '/api' } as never)
  await t.rejects(async () => { await app.ready() }, { code: 'FST_ZD_INVALID_OPTION', message: /option "prefix" is not supported: Fastify ignores it for this plugin.*Put the prefix in "paths" instead.*got "\/api"$/ })
  const ok = Fastify()
  await ok.register(zeroDowntime, { pressure: false, paths: { liveness: '/api/health', readiness: '/api/ready', startup: '/api/startup' } })
  t.equal((await ok.inject('/api/health')).statusCode, 200, 'the paths option serves them under the prefix')
  await ok.close()
})

t.test('registering it twice names this plugin, not under-pressure', async (t) => {
  for (const opts of [{}, { pressure: false as const }]) {
    const app = Fastify()
    app.register(zeroDowntime, opts)
    app.register(zeroDowntime, opts)
    await t.rejects(async () => { await app.ready() }, { code: 'FST_ZD_ALREADY_REGISTERED', message: 'fastify-zero-downtime: the plugin is already registered on this instance (or a parent of it); register it once, on the root instance' }, JSON.stringify(opts))
  }
  const app = Fastify()
  app.register(zeroDowntime, { pressure: false })
  app.register(async (child) => { await child.register(zeroDowntime, { pressure: false }) })
  await t.rejects(async () => { await app.ready() }, { message: /already registered on this instance \(or a parent of it\)/ }, 'in a child context too')
})

t.test('the Fastify range the plugin declares is its peer dependency range', async (t) => {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { peerDependencies: Record<string, string> }
  const meta = (zeroDowntime as unknown as Record<symbol, { fastify?: string, name?: string }>)[Symbol.for('plugin-meta')]
  t.equal(meta?.fastify, pkg.peerDependencies.fastify)
  t.equal(meta?.name, 'fastify-zero-downtime')
})
