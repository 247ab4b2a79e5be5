// The fast tier (test/unit.taprc, `npm run test:unit`) holds what it says:
// every file it names exists, and none of them, nor a fixture it imports,
// reaches for a child process, a socket or a real server. (The helpers are
// toolboxes: a test that only records rejections with helpers/probe.ts opens
// no socket; one that imports helpers/servers.ts is caught by its name.)
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const rc = readFileSync(join(root, 'test/unit.taprc'), 'utf8')

const FORBIDDEN: Array<[RegExp, string]> = [
  [/from '(node:)?child_process'/, 'child process'],
  [/from '((node:)?(net|http|https|http2|tls|dgram)|undici)'|\.listen\(/, 'socket'],
  [/from '(pg|ioredis|amqplib)'|\/helpers\/(servers|tcp-proxy)\.js'/, 'real server']
]

/** The files the tier runs: the names in its @(a|b) lists, and test/*-clock.test.ts. */
function tier (): string[] {
  const named = [...rc.matchAll(/^ {2}- "([\w/]+)\/@\(([\w|-]+)\)\.test\.ts"$/gm)]
    .flatMap(([, dir, names]) => (names as string).split('|').map((name) => `${dir as string}/${name}.test.ts`))
  const clocked = readdirSync(join(root, 'test')).filter((f) => f.endsWith('-clock.test.ts')).map((f) => `test/${f}`)
  return [...named, ...clocked]
}

/** A file and the fixtures it imports (values, not types), transitively; sources under src/ are what is tested. */
function withLocalImports (file: string, seen = new Set<string>()): Set<string> {
  if (seen.has(file)) return seen
  seen.add(file)
  const text = readFileSync(join(root, file), 'utf8')
  for (const [, spec] of text.matchAll(/^import (?!type )[^\n]*? from '(\.[^']+)\.js'/gm)) {
    const target = relative(root, resolve(root, dirname(file), `${spec as string}.ts`))
    if (/^(kit\/)?test\/fixtures\//.test(target)) withLocalImports(target, seen)
  }
  return seen
}

t.test('every file the tier names exists', async (t) => {
  const files = tier()
  t.ok(files.length >= 20, `${files.length} files`)
  for (const file of files) t.ok(existsSync(join(root, file)), file)
})

t.test('no file of the tier, nor a fixture it imports, reaches for a child process, a socket or a real server', async (t) => {
  for (const file of tier().filter((f) => existsSync(join(root, f)))) {
    for (const used of withLocalImports(file)) {
      const text = readFileSync(join(root, used), 'utf8')
      for (const [pattern, what] of FORBIDDEN) t.notMatch(text, pattern, `${file}${used === file ? '' : ` (through ${used})`}: no ${what}`)
    }
  }
})
