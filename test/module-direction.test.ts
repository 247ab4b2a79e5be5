// Module dependencies run one way: shared helpers (src/*.ts) → health,
// pressure → the plugin. The probes and load shedding are peers: neither
// imports the other, nor the plugin's own level (plugin.ts, plugin-options.ts,
// index.ts), so each can be read, tested and changed on its own.
import { readdirSync, readFileSync } from 'node:fs'
import t from 'tap'

const SRC = new URL('../src/', import.meta.url)
/** The plugin's own level: it composes the folders, so nothing below may import it. */
const PLUGIN_LEVEL = new Set(['plugin.ts', 'plugin-options.ts', 'index.ts'])

function imports (folder: string, file: string): string[] {
  const text = readFileSync(new URL(`${folder}/${file}`, SRC), 'utf8')
  return [...text.matchAll(/^(?:import|export)[^'"]*from '(\.[^']+)'/gm)].map((m) => m[1] as string)
}

for (const folder of ['health', 'pressure']) {
  t.test(`src/${folder} imports only its own files and the shared helpers`, async (t) => {
    const files = readdirSync(new URL(folder, SRC)).filter((f) => f.endsWith('.ts'))
    t.ok(files.length > 0)
    for (const file of files) {
      for (const target of imports(folder, file)) {
        const own = target.startsWith('./')
        const shared = /^\.\.\/[\w-]+\.js$/.test(target) && !PLUGIN_LEVEL.has(target.slice(3).replace(/\.js$/, '.ts'))
        t.ok(own || shared, `${folder}/${file} imports ${target}`)
      }
    }
  })
}
