/**
 * The BUILT package (npm test builds first) works for users: `import` and
 * `require` by package name (self-reference through package.json "exports"),
 * and its declarations type-check an ESM and a CommonJS consumer.
 */
import t from 'tap'
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import * as source from '../src/index.js'

const run = promisify(execFile)
// The fixtures load dist/, whose source maps point back at src/: the CommonJS
// build's export getters would count as uncovered functions of src/. tap's
// processinfo re-injects its hooks into every child, so turn coverage off
// explicitly for these (their behaviour is asserted through stdout).
const env = { ...process.env, _TAPJS_PROCESSINFO_COVERAGE_: '0' }
const fixtures = fileURLToPath(new URL('./fixtures/exports/', import.meta.url))
const root = fileURLToPath(new URL('../', import.meta.url))

t.before(() => {
  if (!existsSync(`${root}dist/esm/index.js`) || !existsSync(`${root}dist/commonjs/index.js`)) {
    throw new Error('dist/ is missing: run `npm run build` (npm test does it first)')
  }
})

t.test('the export shape', async (t) => {
  // The probes' part of the shape; the drain adds its own exports.
  for (const name of ['default', 'zeroDowntime', 'pgCheck', 'redisCheck', 'amqpCheck', 'DEFAULTS', 'LIFECYCLE_STATES', 'ENV', 'errorCodes']) {
    t.ok(name in source, `exports ${name}`)
  }
  t.notOk('Lifecycle' in source, 'the lifecycle is the plugin\'s: no class to advance it by hand')
  t.equal(source.default, source.zeroDowntime)
})

const expected = { same: true, checks: ['function', 'function', 'function'], timeout: 1000, status: 200, body: { status: 'pass' } }

t.test('import by package name', async (t) => {
  const { stdout } = await run(process.execPath, [`${fixtures}esm.mjs`], { cwd: root, env })
  t.same(JSON.parse(stdout), expected)
})

t.test('require by package name', async (t) => {
  const { stdout } = await run(process.execPath, [`${fixtures}cjs.cjs`], { cwd: root, env })
  t.same(JSON.parse(stdout), expected)
})

t.test('the declarations type-check ESM and CommonJS consumers', async (t) => {
  const tsc = `${root}node_modules/typescript/bin/tsc`
  const { stdout } = await run(process.execPath, [tsc, '-p', `${fixtures}tsconfig.json`], { cwd: root, env }).catch((err: { stdout: string }) => err)
  t.equal(stdout, '', 'tsc reports no error')
})
