/**
 * The README is the front door: what it shows must keep working. Its
 * TypeScript examples type-check against the built package (as a user's code
 * would, importing 'fastify-zero-downtime' by name), the npm scripts it tells
 * a newcomer to run exist, and the files it links to are there.
 */
import t from 'tap'
import { execFile } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

const run = promisify(execFile)
const root = fileURLToPath(new URL('../', import.meta.url))
const readme = readFileSync(join(root, 'README.md'), 'utf8')

t.test('every TypeScript example type-checks against the built package', async (t) => {
  const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1] as string)
  t.ok(blocks.length > 0, 'the README has TypeScript examples')
  // Inside the package (under .tap/), so that the package name and the
  // example's own imports (pg, ioredis) resolve as they do for a user.
  const dir = t.testdir(Object.fromEntries(blocks.map((code, i) => [`example-${i}.mts`, code])))
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({
    compilerOptions: { target: 'ES2022', module: 'nodenext', moduleResolution: 'nodenext', strict: true, noEmit: true, skipLibCheck: true, types: ['node'] },
    include: ['*.mts']
  }))
  const tsc = join(root, 'node_modules/typescript/bin/tsc')
  const { stdout } = await run(process.execPath, [tsc, '-p', join(dir, 'tsconfig.json')], { cwd: root })
    .catch((err: { stdout: string }) => err)
  t.equal(stdout, '', 'tsc reports no error')
})

t.test('the npm scripts it names exist', async (t) => {
  const scripts = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts
  const named = new Set([...readme.matchAll(/npm run ([\w:-]+)/g)].map((m) => m[1] as string))
  t.ok(named.has('rollout'), 'the main job is `npm run rollout`')
  for (const name of named) t.ok(scripts[name], `npm run ${name}`)
  t.ok(/npm ci && npm test/.test(readme), 'the test command is `npm ci && npm test`')
  t.match(readFileSync(join(root, '.ci/run'), 'utf8'), /\nnpm ci [^\n]*\n[\s\S]*\nnpm test\n/, '.ci/run runs the same test command')
})

t.test('the files it links to exist', async (t) => {
  const links = [...readme.matchAll(/\]\(((?!https?:)[^)#]+)\)/g)].map((m) => m[1] as string)
  t.ok(links.length > 0)
  for (const link of links) t.ok(existsSync(join(root, link)), link)
})
