// No Docker engine runs here: this checks what can be checked from the files.
// The Dockerfile's instructions (stages, exec-form entrypoint with tini, no npm
// at run time, non-root user, STOPSIGNAL), the .dockerignore, and that the
// image's compile step (the example workspace's build) really produces the file CMD
// runs, and the production install carries no load-test package.
import { spawn, spawnSync } from 'node:child_process'
import { once } from 'node:events'
import { existsSync, readFileSync } from 'node:fs'
import { get } from 'node:http'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import t from 'tap'

const root = join(import.meta.dirname, '..')

interface Instruction { readonly op: string, readonly args: string, readonly stage: number }

function instructions (text: string): Instruction[] {
  const out: Instruction[] = []
  let stage = -1
  const joined = text.replace(/\\\n/g, ' ')
  for (const raw of joined.split('\n')) {
    const line = raw.trim()
    if (line === '' || line.startsWith('#')) continue
    const m = /^(\w+)\s+(.*)$/.exec(line)
    if (m === null) throw new Error(`cannot parse Dockerfile line: ${line}`)
    const op = (m[1] as string).toUpperCase()
    if (op === 'FROM') stage++
    out.push({ op, args: (m[2] as string).trim(), stage })
  }
  return out
}

const dockerfile = instructions(readFileSync(join(root, 'Dockerfile'), 'utf8'))
const finalStage = Math.max(...dockerfile.map((i) => i.stage))
const final = dockerfile.filter((i) => i.stage === finalStage)
const one = (op: string): Instruction => {
  const found = final.filter((i) => i.op === op)
  if (found.length !== 1) throw new Error(`expected one ${op} in the runtime stage, found ${found.length}`)
  return found[0] as Instruction
}

t.test('multi-stage: build, production dependencies, small runtime', async (t) => {
  const froms = dockerfile.filter((i) => i.op === 'FROM').map((i) => i.args)
  t.ok(froms.length >= 3, froms.join(' | '))
  t.match(froms.at(-1), /^node:\$\{NODE_VERSION\}-alpine AS runtime$/)
  const deps = dockerfile.filter((i) => i.stage === 1 && i.op === 'RUN').map((i) => i.args).join(' ')
  t.match(deps, /npm ci --omit=dev -w examples\/service/, 'production dependencies of the example workspace only')
  t.notMatch(deps, /node -e|package\.json/, 'no inline package.json rewriting')
  const contextCopies = dockerfile.filter((i) => i.op === 'COPY' && !i.args.startsWith('--from')).map((i) => i.args)
  t.notOk(contextCopies.some((c) => /^kit\b|\skit\//.test(c)), 'the load-test kit is never copied into the image')
  const copies = final.filter((i) => i.op === 'COPY').map((i) => i.args)
  t.ok(copies.some((c) => /--from=deps \/app\/node_modules/.test(c)), 'node_modules come from the production-only stage')
  t.notOk(copies.some((c) => /--from=build \/app\/node_modules/.test(c)), 'never the build stage\'s node_modules (dev tools)')
  t.notOk(copies.some((c) => /^\.\s/.test(c)), 'the runtime never copies the whole context')
})

t.test('node runs in exec form under tini, never through npm', async (t) => {
  const entrypoint = JSON.parse(one('ENTRYPOINT').args) as string[]
  const cmd = JSON.parse(one('CMD').args) as string[]
  t.same(entrypoint, ['/sbin/tini', '--'])
  t.equal(cmd[0], 'node')
  t.notOk([...entrypoint, ...cmd].some((a) => /\b(npm|yarn|pnpm|sh)\b/.test(a)))
  t.ok(final.some((i) => i.op === 'RUN' && /apk add --no-cache tini/.test(i.args)), 'tini is installed')
  t.equal(one('STOPSIGNAL').args, 'SIGTERM')
})

t.test('runs as a non-root user', async (t) => {
  const user = one('USER').args
  t.notMatch(user, /^(root|0)(:|$)/)
  t.equal(user, 'node', 'uid 1000 of the official image, as k8s/ runAsUser says')
  const userAt = final.indexOf(one('USER'))
  t.notOk(final.slice(userAt).some((i) => i.op === 'RUN'), 'nothing runs as root after USER')
})

t.test('.dockerignore keeps secrets, history and local builds out of the context', async (t) => {
  const ignored = readFileSync(join(root, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'))
  for (const entry of ['.git', 'node_modules', 'dist', '.env']) t.ok(ignored.includes(entry), entry)
  const copied = dockerfile.filter((i) => i.op === 'COPY' && !i.args.startsWith('--from')).flatMap((i) => i.args.split(/\s+/).slice(0, -1))
  for (const path of copied) t.notOk(ignored.includes(path.replace(/^\.\//, '')), `${path} is copied and not ignored`)
})

t.test('the file CMD runs is produced by the image\'s compile step', async (t) => {
  const cmd = JSON.parse(one('CMD').args) as string[]
  const entry = cmd.at(-1) as string
  t.match(entry, /^examples\/service\/build\/.+\.js$/)
  t.ok(dockerfile.some((i) => i.op === 'RUN' && /npm run build -w examples\/service/.test(i.args)))
  // Same config, output redirected to a scratch folder inside the repository
  // (where `fastify-zero-downtime` resolves to this package as it does in
  // /app), laid out as in the image.
  const out = t.testdir({ examples: { service: { 'package.json': JSON.stringify({ type: 'module' }) } } })
  const tsc = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'examples/service/tsconfig.json'), '--outDir', join(out, 'examples/service/build')], { cwd: root, encoding: 'utf8' })
  t.equal(tsc.status, 0, tsc.stdout + tsc.stderr)
  t.ok(existsSync(join(out, entry)), `${entry} exists in the build output`)

  // What the container runs, minus tini: the compiled entry point, answering
  // its probes, then draining and exiting 0 on SIGTERM.
  const server = spawn(process.execPath, [...cmd.slice(1, -1), join(out, entry)], {
    env: { ...process.env, NODE_ENV: 'production', PORT: '0', HOST: '127.0.0.1', PRESTOP_SLEEP_SECONDS: '5' },
    stdio: ['ignore', 'pipe', 'inherit']
  })
  const exited = once(server, 'exit')
  let port = 0
  for await (const line of createInterface({ input: server.stdout })) {
    const m = /Server listening at http:\/\/127\.0\.0\.1:(\d+)/.exec(line)
    if (m !== null) { port = Number(m[1]); break }
  }
  server.stdout.resume()
  if (!t.ok(port > 0, 'the server logs where it listens')) return
  const status = (path: string): Promise<number | undefined> => new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path, agent: false }, (res) => { res.resume(); resolve(res.statusCode) }).on('error', reject)
  })
  t.equal(await status('/startup'), 200)
  t.equal(await status('/health'), 200)
  t.equal(await status('/ready'), 200)
  server.kill('SIGTERM')
  const [code] = await exited
  t.equal(code, 0, 'a clean drain exits 0')
})

t.test('the deps stage installs the example and the plugin, no load-test package', async (t) => {
  // The deps stage as Docker runs it: only the files it COPYs, then its RUN
  // (npm's cache of this machine's install answers; the registry if not).
  const stage = dockerfile.filter((i) => i.stage === 1)
  const dir = t.testdir()
  for (const c of stage.filter((i) => i.op === 'COPY').map((i) => i.args.split(/\s+/))) {
    const dest = join(dir, c.at(-1) as string)
    for (const src of c.slice(0, -1)) spawnSync('install', ['-D', join(root, src), join(dest, dest.endsWith('/') ? src.split('/').at(-1) as string : '')])
  }
  const install = (stage.find((i) => i.op === 'RUN') as Instruction).args.split('&&')[0] as string
  const r = spawnSync('sh', ['-c', `${install} --prefer-offline`], { cwd: dir, encoding: 'utf8' })
  t.equal(r.status, 0, r.stderr)
  const installed = (name: string): boolean => existsSync(join(dir, 'node_modules', name, 'package.json'))
  for (const name of ['fastify', 'pg', 'ioredis', 'amqplib', 'fastify-plugin', '@fastify/under-pressure']) t.ok(installed(name), `${name} is installed`)
  // close-with-grace: the plugin does not import it (src/process/owner.ts says why).
  for (const name of ['autocannon', 'yaml', 'fastify-zero-downtime-kit', 'tsx', 'typescript', 'close-with-grace']) t.notOk(installed(name), `${name} is not`)
})
