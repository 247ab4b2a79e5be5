/**
 * The README is the front door: what it shows must keep working. Its
 * TypeScript examples type-check against the built package (as a user's code
 * would, importing 'fastify-zero-downtime' by name), the npm scripts it tells
 * a newcomer to run exist, and the files it and the docs link to are there
 * and in the published tarball.
 */
import t from 'tap'
import { execFile } from 'node:child_process'
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join, posix } from 'node:path'
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

/** Relative links (and images) of a Markdown file, resolved against the repository root. */
function relativeLinks (file: string): string[] {
  const text = readFileSync(join(root, file), 'utf8')
  return [...text.matchAll(/\]\(((?!https?:|#)[^)#\s]+)[^)]*\)/g)].map((m) => posix.normalize(posix.join(posix.dirname(file), m[1] as string)))
}

const docs = readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)

t.test('the docs link only to files that exist', async (t) => {
  t.ok(docs.length > 0)
  for (const file of docs) for (const link of relativeLinks(file)) t.ok(existsSync(join(root, link)), `${file}: ${link}`)
})

t.test('what it links to is in the published tarballs', async (t) => {
  // The README is the registry page: a link to a file left out of the tarball is dead there.
  // The docs it links to are read there too (and from node_modules): the same holds for theirs.
  const pack = async (args: string[]): Promise<string[]> => {
    const { stdout } = await run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts', ...args], { cwd: root })
    return (JSON.parse(stdout) as Array<{ files: Array<{ path: string }> }>)[0]?.files.map((f) => f.path) ?? []
  }
  const plugin = await pack([])
  const shipped = (link: string): boolean => plugin.some((f) => f === link || f.startsWith(`${link.replace(/\/$/, '')}/`))
  const links = [...readme.matchAll(/\]\(((?!https?:)[^)#]+)\)/g)].map((m) => m[1] as string)
  for (const link of links) t.ok(shipped(link), `${link} is in the plugin's tarball`)
  for (const file of docs) {
    t.ok(plugin.includes(file), `${file} is in the plugin's tarball`)
    for (const link of relativeLinks(file)) t.ok(shipped(link), `${file}: ${link} is in the plugin's tarball`)
  }
  for (const f of ['package.json', 'README.md', 'dist/esm/index.js', 'dist/commonjs/index.js', 'dist/esm/budget.js']) t.ok(plugin.includes(f), f)
  t.notOk(plugin.some((f) => /^(src|test|kit|examples)\//.test(f) || f === 'Dockerfile'), 'no source, test, kit, example or Dockerfile that could not build outside the repository')
  const kit = await pack(['-w', 'kit'])
  for (const f of ['package.json', 'README.md', 'dist/cli/index.js', 'dist/cli/rollout.js', 'dist/baseline/server.js']) t.ok(kit.includes(f), `kit: ${f}`)
  t.notOk(kit.some((f) => f.endsWith('.ts')), 'the kit ships JavaScript only: nothing runs through tsx')
  t.notOk(readFileSync(join(root, 'kit/README.md'), 'utf8').match(/\]\((?!https?:)/), 'the kit README links only by URL')
})
