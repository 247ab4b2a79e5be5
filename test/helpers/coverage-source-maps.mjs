/**
 * Makes tap's coverage report read the real TypeScript sources.
 *
 * The tests run TypeScript through tsx, which leaves the sources out of its
 * source maps (`sourcesContent: [null]`) unless NODE_V8_COVERAGE is set, and
 * tap measures coverage through the inspector, not that variable. Given a
 * map whose only source is null, v8-to-istanbul takes null as the source
 * text instead of reading the file: every file came out as one covered line,
 * 100 % whatever ran. Dropping the empty `sourcesContent` from the recorded
 * maps makes it read each source from disk. Run between `tap` (which
 * records) and `tap report` (which checks), see package.json's test script.
 */
import { readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

const dir = join(process.cwd(), '.tap', 'coverage')
let fixed = 0
for (const name of await readdir(dir)) {
  if (!name.endsWith('.json')) continue
  const file = join(dir, name)
  const data = JSON.parse(await readFile(file, 'utf8'))
  let changed = false
  for (const entry of Object.values(data['source-map-cache'] ?? {})) {
    const content = entry?.data?.sourcesContent
    if (Array.isArray(content) && content.every((c) => c === null)) {
      delete entry.data.sourcesContent
      changed = true
    }
  }
  if (changed) {
    await writeFile(file, JSON.stringify(data))
    fixed++
  }
}
process.stdout.write(`coverage: source maps without sources fixed in ${fixed} of the recorded processes\n`)
