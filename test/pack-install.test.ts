// Both packages as a user gets them: `npm pack`, then `npm install` into a
// scratch project outside the repository, next to fastify@5 from the registry.
// The plugin must add a handful of packages and no load-test tool; the packed
// kit must lint k8s/ and roll a service of that project with its default
// (compiled, shipped) baseline.
import { existsSync, readFileSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import { packBoth, root, run, scratchDir } from './helpers/packed.js'

const LOAD_TEST_TOOLS = ['autocannon', 'yaml', 'tsx', 'typescript', 'undici', 'fastify-zero-downtime-kit']

/** Installed packages of a project: the keys of npm's hidden lockfile. */
function installed (project: string): Set<string> {
  const lock = JSON.parse(readFileSync(join(project, 'node_modules/.package-lock.json'), 'utf8')) as { packages: Record<string, unknown> }
  return new Set(Object.keys(lock.packages).map((k) => k.slice(k.lastIndexOf('node_modules/') + 'node_modules/'.length)))
}
async function size (project: string): Promise<number> {
  const du = await run('du', ['-sk', join(project, 'node_modules')], project)
  return Number(du.stdout.split('\t')[0]) * 1024
}

const SERVICE = `// A user's own service: Fastify and the packed plugin, nothing else.
import Fastify from 'fastify'
import zeroDowntime, { listen } from 'fastify-zero-downtime'
const app = Fastify({ logger: { level: 'warn' } })
await app.register(zeroDowntime)
app.get('/', async () => ({ hello: 'world' }))
await listen(app, { port: Number(process.env.PORT ?? 3000), host: process.env.HOST ?? '127.0.0.1' })
`

t.test('packed plugin and kit in a project of their own', async (t) => {
  const scratch = await scratchDir(t, 'fzd-pack-')
  const project = join(scratch, 'project')
  const packed = await packBoth(join(scratch, 'packs'))
  if (!('plugin' in packed)) { t.fail(`npm pack: ${packed.stderr}`); return }
  const { plugin, kit } = packed
  t.ok(existsSync(plugin) && existsSync(kit), 'both tarballs packed')

  await run('mkdir', ['-p', project], root)
  await writeFile(join(project, 'package.json'), JSON.stringify({ name: 'user-service', version: '1.0.0', private: true, type: 'module' }))
  let r = await run('npm', ['install', 'fastify@5'], project)
  if (!t.equal(r.code, 0, r.stderr)) return
  const bare = installed(project)
  const bareSize = await size(project)

  r = await run('npm', ['install', plugin], project)
  if (!t.equal(r.code, 0, r.stderr)) return
  const withPlugin = installed(project)
  const added = [...withPlugin].filter((p) => !bare.has(p))
  t.comment(`footprint: fastify alone ${bare.size} packages, ${Math.round(bareSize / 1024)} kB; with the plugin ${withPlugin.size} packages (+${added.length}: ${added.join(', ')}), ${Math.round(await size(project) / 1024)} kB`)
  t.ok(added.length <= 6, `the plugin adds at most 6 packages (${added.join(', ')})`)
  for (const tool of LOAD_TEST_TOOLS) t.notOk(withPlugin.has(tool), `${tool} is not installed with the plugin`)

  r = await run('npm', ['install', '--save-dev', kit], project)
  if (!t.equal(r.code, 0, r.stderr)) return
  const bin = join(project, 'node_modules/.bin/fastify-zero-downtime-kit')

  const lint = await run(bin, ['lint', join(root, 'k8s')], project)
  t.equal(lint.code, 0, `lint k8s/: ${lint.stdout}${lint.stderr}`)

  const usage = await run(bin, ['rollout', '--no-baseline'], project)
  t.equal(usage.code, 2, 'rollout without --command where no example exists is a usage error')
  t.match(usage.stderr, /--command is required/)

  await writeFile(join(project, 'server.js'), SERVICE)
  const out = join(project, 'reports')
  const rollout = await run(bin, ['rollout', '--command', 'node server.js', '--scenarios', 'hot-loop', '--scale', '0.2', '--replicas', '2',
    '--prestop-seconds', '1', '--propagation-seconds', '0.4', '--readiness-period-seconds', '0.2', '--steady-seconds', '0.3', '--out', out], project)
  t.equal(rollout.code, 0, `rollout: ${rollout.stdout}${rollout.stderr}`)
  const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as { runs: Array<{ scenario: string, label: string, dropped: number, error?: string, counts: { ok: number } }> }
  t.same(report.runs.map((x) => [x.scenario, x.label]), [['hot-loop', 'service'], ['hot-loop', 'baseline']], 'the service and the default baseline ran')
  for (const x of report.runs) {
    t.equal(x.error, undefined, `${x.label} ran`)
    t.ok(x.counts.ok > 0, `${x.label} served requests`)
  }
  t.equal(report.runs[0]?.dropped, 0, 'the service with the packed plugin drops nothing')
  t.ok(existsSync(join(out, 'report.html')), 'report.html written')
})
