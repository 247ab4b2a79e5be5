/**
 * docs/results.md is written by `npm run matrix` and committed; it must not
 * drift from what `npm ci` installs or lose a recipe: every package a recipe
 * imports is named in it with the version package-lock.json pins, the peers
 * (packages only the matrix uses) are exact devDependencies, every recipe file
 * has a row in every table, and the picture it shows is there. Reads files
 * only: no load, no matrix code.
 */
import t from 'tap'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('../', import.meta.url))
const doc = readFileSync(join(root, 'docs/results.md'), 'utf8')
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  name: string
  version: string
  dependencies: Record<string, string>
  devDependencies: Record<string, string>
  peerDependencies: Record<string, string>
}
const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as { packages: Record<string, { version?: string }> }
const recipes = readdirSync(join(root, 'matrix/recipes')).filter((f) => f.endsWith('.ts')).map((f) => f.slice(0, -'.ts'.length))

const locked = (name: string): string | undefined => name === pkg.name ? lock.packages['']?.version : lock.packages[`node_modules/${name}`]?.version

/** `@scope/name/sub` -> `@scope/name`, `name/sub` -> `name`. */
const packageOf = (specifier: string): string => specifier.split('/').slice(0, specifier.startsWith('@') ? 2 : 1).join('/')

/** The npm packages the recipe files (and the routes they share) import. */
function imported (): Set<string> {
  const files = [...recipes.map((r) => join(root, 'matrix/recipes', `${r}.ts`)), join(root, 'matrix/routes.ts')]
  const names = new Set<string>()
  for (const file of files) {
    for (const m of readFileSync(file, 'utf8').matchAll(/^import [^'"]*['"]([^'"]+)['"]/gm)) {
      const spec = m[1] as string
      if (!spec.startsWith('.') && !spec.startsWith('node:')) names.add(packageOf(spec))
    }
  }
  return names
}

/** The document's versions table: `| \`name\` | version |`. */
function documentedVersions (): Map<string, string> {
  return new Map([...doc.matchAll(/^\| `([^`]+)` \| ([^|\s]+) \|$/gm)].map((m) => [m[1] as string, m[2] as string]))
}

t.test('every package the recipes import is in the document, at the version the lockfile pins', async (t) => {
  const names = imported()
  const documented = documentedVersions()
  for (const name of ['fastify', 'close-with-grace', '@godaddy/terminus', 'lightship', 'http-terminator', 'fastify-graceful-shutdown', pkg.name]) {
    t.ok(names.has(name), `a recipe imports ${name}`)
  }
  for (const name of names) {
    t.ok(locked(name), `package-lock.json pins ${name}`)
    t.equal(documented.get(name), locked(name), `docs/results.md names ${name} at the locked version`)
  }
  for (const [name, version] of documented) t.equal(version, locked(name), `the document's ${name} ${version} is the locked one`)
})

/** Whether any TypeScript file of the repository outside matrix/ imports the package. */
function usedOutsideMatrix (name: string): boolean {
  const pattern = new RegExp(`from ['"]${name.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}(/[^'"]*)?['"]`)
  const walk = (dir: string): boolean => readdirSync(join(root, dir), { withFileTypes: true }).some((e) =>
    e.isDirectory()
      ? !['node_modules', 'dist', 'build'].includes(e.name) && walk(join(dir, e.name))
      : e.name.endsWith('.ts') && pattern.test(readFileSync(join(root, dir, e.name), 'utf8')))
  return ['src', 'test', 'examples', 'bench', 'kit/src', 'kit/test'].some((dir) => existsSync(join(root, dir)) && walk(dir))
}

t.test('the peers (what only the matrix uses) are exact devDependencies, the ones the lockfile pins', async (t) => {
  const peers = [...imported()].filter((n) => n !== pkg.name && !usedOutsideMatrix(n))
  t.same([...peers].sort(), ['@godaddy/terminus', 'fastify-graceful-shutdown', 'http-terminator', 'lightship'])
  for (const name of peers) {
    t.notOk(pkg.dependencies[name] ?? pkg.peerDependencies[name], `${name} is not something the plugin needs at run time`)
    t.equal(pkg.devDependencies[name], locked(name), `${name} is a devDependency at its exact version`)
  }
})

t.test('every recipe of matrix/recipes has a row in every table', async (t) => {
  const tables = doc.split(/^### /m).slice(1).filter((section) => section.startsWith('Through '))
  t.ok(tables.length >= 1, 'at least one table')
  t.ok(recipes.length >= 7, `recipes: ${recipes.join(', ')}`)
  for (const table of tables) {
    const [title = '', , ...rest] = table.split('\n')
    // The table is the block of `|` lines right under its heading.
    const end = rest.findIndex((line) => !line.startsWith('|'))
    const block = rest.slice(0, end === -1 ? rest.length : end)
    const rows = block.filter((line) => !line.startsWith('| recipe |') && !line.startsWith('|---'))
    for (const id of recipes) t.equal(rows.filter((row) => (row.split(' | ')[0] as string).endsWith(`<br>\`${id}\``)).length, 1, `${title}: one row for ${id}`)
    t.equal(rows.length, recipes.length, `${title}: no row without a recipe file`)
  }
})

t.test('the picture it shows is committed next to it', async (t) => {
  const pictures = [...doc.matchAll(/!\[[^\]]*\]\(([^)]+\.svg)\)/g)].map((m) => m[1] as string)
  t.same(pictures, ['results.svg'])
  const svg = readFileSync(join(root, 'docs/results.svg'), 'utf8')
  t.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/)
  t.ok(existsSync(join(root, 'matrix/main.ts')), 'the generator is in the repository')
  t.match(doc, /npm run matrix/, 'the document names the command that regenerates it')
})

/** Each table's cells: proxy heading -> recipe id -> scenario -> dropped per rollout (the cell's bold mean). */
function cells (): Map<string, Map<string, Map<string, number>>> {
  const byProxy = new Map<string, Map<string, Map<string, number>>>()
  for (const section of doc.split(/^### /m).slice(1).filter((s) => s.startsWith('Through '))) {
    const lines = section.split('\n')
    const proxy = /`--proxy (\w+)`/.exec(lines[0] as string)?.[1] as string
    const table = lines.slice(2).filter((l) => l.startsWith('|'))
    const scenarios = [...(table[0] as string).matchAll(/`([\w-]+)`/g)].map((m) => m[1] as string)
    const rows = new Map<string, Map<string, number>>()
    for (const row of table.slice(2)) {
      const [name, ...rest] = row.split(' | ')
      const id = /<br>`([\w-]+)`$/.exec(name as string)?.[1] as string
      rows.set(id, new Map(rest.map((cell, i) => [scenarios[i] as string, Number(/\*\*([\d.]+)\*\*/.exec(cell)?.[1] ?? NaN)])))
    }
    byProxy.set(proxy, rows)
  }
  return byProxy
}

t.test('the README\'s first paragraph says what the table shows, and nothing more', async (t) => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8')
  const paragraph = readme.split('\n\n')[2] as string
  t.match(paragraph, /\(\[docs\/results\.md\]\(docs\/results\.md\)/, 'it links the table')
  const table = cells()
  const l4 = table.get('l4')!
  const peers = recipes.filter((r) => r !== 'zero-downtime')
  for (const [proxy, rows] of table) {
    for (const [scenario, dropped] of rows.get('zero-downtime')!) t.equal(dropped, 0, `${proxy} ${scenario}: "this plugin dropped no request in any cell"`)
  }
  t.match(paragraph, /all dropped requests from a hot\s+keep-alive loop \(50 per rollout/)
  for (const peer of peers) t.equal(l4.get(peer)!.get('hot-loop'), 50, `${peer}: 50 per rollout in L4 hot-loop`)
  for (const scenario of ['slow', 'sse', 'grpc']) {
    for (const peer of peers) t.ok(l4.get(peer)!.get(scenario)! > 0, `${peer}: drops in L4 ${scenario}`)
  }
  const throughBoth = peers.filter((p) => table.get('l7')!.get(p)!.get('no-prestop')! > 0 && table.get('nginx')!.get(p)!.get('no-prestop')! > 0)
  t.match(paragraph, /four of\s+them also through HAProxy and nginx when the pod has no preStop hook/)
  t.equal(throughBoth.length, 4, `through HAProxy and nginx without preStop: ${throughBoth.join(', ')}`)
})
