// The kit on a user's own service, as a user gets it (issue 24): a fresh
// project with the packed plugin and the packed kit, a service with only
// `GET /`, rolled by `rollout --command` with the default scenarios. The
// scenarios its route serves run at 0 dropped, the others are listed as not
// run (never as drops) and the exit code is 0. Then the service with three
// routes and a requests file of them: every route is drawn, and the report
// counts each kind on its own, under a scale-up. Short timings throughout (1 replica, short
// preStop, propagation and probes, no baseline) to keep the test modest.
import { readFileSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import type { ReportFile } from '../kit/src/report/json.js'
import { packBoth, run, scratchDir } from './helpers/packed.js'

const ONLY_ROOT = `import Fastify from 'fastify'
import zeroDowntime, { listen } from 'fastify-zero-downtime'
const app = Fastify({ logger: { level: 'warn' } })
await app.register(zeroDowntime)
app.get('/', async () => ({ hello: 'world' }))
await listen(app, { port: Number(process.env.PORT ?? 3000), host: process.env.HOST ?? '127.0.0.1' })
`

const THREE_ROUTES = `import Fastify from 'fastify'
import zeroDowntime, { listen } from 'fastify-zero-downtime'
const app = Fastify({ logger: { level: 'warn' } })
await app.register(zeroDowntime)
app.get('/', async () => ({ hello: 'world' }))
app.get('/report', async () => { await new Promise((resolve) => setTimeout(resolve, 300)); return { rows: 3 } })
app.post('/orders', async (req, reply) => reply.code(201).send({ id: 1, sku: req.body.sku }))
await listen(app, { port: Number(process.env.PORT ?? 3000), host: process.env.HOST ?? '127.0.0.1' })
`

const REQUESTS = `# What the service gets in production, roughly.
requests:
  - { method: GET, path: /, weight: 4 }
  - { name: slow report, method: GET, path: /report, weight: 1 }
  - name: new order
    method: POST
    path: /orders
    body: { sku: 42, quantity: 1 }
    weight: 2
`

const QUICK = ['--no-baseline', '--replicas', '1', '--scale', '0.2', '--prestop-seconds', '1', '--propagation-seconds', '0.4', '--readiness-period-seconds', '0.2', '--steady-seconds', '0.3']

// npm install, then six rollouts of real processes: on a loaded 2-core
// machine that is more than the suite's 120 s per file (measured: 4 min
// with 2 replicas and 8 agents at work), so this file asks for more.
t.setTimeout(420_000)

t.test('a user\'s own service, packed plugin and kit: what its routes serve runs, the rest is not run', async (t) => {
  const scratch = await scratchDir(t, 'fzd-own-')
  const project = join(scratch, 'project')
  const packed = await packBoth(join(scratch, 'packs'))
  if (!('plugin' in packed)) { t.fail(`npm pack: ${packed.stderr}`); return }
  await run('mkdir', ['-p', project], scratch)
  await writeFile(join(project, 'package.json'), JSON.stringify({ name: 'user-service', version: '1.0.0', private: true, type: 'module' }))
  const install = await run('npm', ['install', 'fastify@5', packed.plugin, packed.kit], project)
  if (!t.equal(install.code, 0, install.stderr)) return
  const bin = join(project, 'node_modules/.bin/fastify-zero-downtime-kit')
  await writeFile(join(project, 'server.js'), ONLY_ROOT)
  await writeFile(join(project, 'routes.js'), THREE_ROUTES)
  await writeFile(join(project, 'requests.yaml'), REQUESTS)

  const only = await run(bin, ['rollout', '--command', 'node server.js', ...QUICK, '--out', 'only-root'], project)
  t.equal(only.code, 0, `rollout of a service with only GET /: ${only.stdout}${only.stderr}`)
  const a = JSON.parse(readFileSync(join(project, 'only-root/report.json'), 'utf8')) as ReportFile
  t.same(a.runs.map((r) => r.scenario), ['keep-alive', 'hot-loop', 'idle-pool', 'idle-pool-undici', 'no-prestop'], 'every default scenario GET / serves')
  for (const r of a.runs) t.same([r.error, r.dropped, r.counts.ok > 0], [undefined, 0, true], `${r.scenario}: ran, 0 dropped`)
  t.same(a.notRun.map((n) => n.reason), [
    'GET /slow?ms=2000 answered 404; point it with --slow-path or leave it out',
    'POST /echo answered 404; point it with --post-path or leave it out',
    'GET /events answered 404; point it with --sse-path or leave it out'
  ])
  t.match(only.stdout, /post \/ service: not run: POST \/echo answered 404/)
  t.match(only.stdout, /PASS: service dropped no request/)

  // The mix runs under a scale-up (issue 23: every strategy through the
  // packed kit with --command); one run proves both, and the strategy's own
  // assertions are in kit/test/loadtest-strategies.test.ts.
  const mixed = await run(bin, ['rollout', '--command', 'node routes.js', '--requests', 'requests.yaml', '--scenarios', 'hot-loop', '--seed', '24',
    '--strategy', 'scale-up', '--hold-seconds', '2', ...QUICK, '--out', 'mixed'], project)
  t.equal(mixed.code, 0, `rollout with a requests file: ${mixed.stdout}${mixed.stderr}`)
  const b = JSON.parse(readFileSync(join(project, 'mixed/report.json'), 'utf8')) as ReportFile
  t.same(b.notRun, [])
  t.same(b.runs[0]!.events.filter((e) => e.type === 'operator').map((e) => e.detail), ['scale 1 -> 2'], 'the scale-up ran')
  t.match(mixed.stdout, /hot-loop \/ service: traffic under scale-up/)
  const kinds = b.runs[0]!.byRequest!
  t.same(Object.keys(kinds).sort(), ['GET /', 'new order', 'slow report'], 'the three routes, each counted under its kind')
  for (const [kind, c] of Object.entries(kinds)) t.ok(c.ok > 0 && c.dropped === 0 && c.ok === c.sent, `${kind}: ${c.sent} sent, all answered`)
  t.match(mixed.stdout, /by request\n.*\n.*\nhot-loop\s+service\s+(GET \/|new order|slow report)\s+\d+/)
})
