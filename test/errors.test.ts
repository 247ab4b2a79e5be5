// Every error a user can meet has a stable code from one list, documented in
// one table: a code added to src/errors.ts without a row in docs/errors.md (or
// a row left behind by a removed code) fails here.
import t from 'tap'
import { readFileSync } from 'node:fs'
import Fastify from 'fastify'
import zeroDowntime, { errorCodes, WARNING_CODES, listen, pgCheck } from '../src/index.js'

const table = readFileSync(new URL('../docs/errors.md', import.meta.url), 'utf8')
const documented = [...table.matchAll(/^\| `(FST_ZD_[A-Z_]+)` \| ([^|]+) \|/gm)].map((m) => [m[1] as string, (m[2] as string).trim()] as const)

t.test('docs/errors.md has one row per code, in the order of the list, with its kind', async (t) => {
  const codes = [...Object.keys(errorCodes), ...Object.keys(WARNING_CODES)]
  t.same(documented.map(([code]) => code), codes)
  for (const [code, kind] of documented) {
    if (code in WARNING_CODES) {
      t.equal(kind, 'warning', code)
      continue
    }
    const err = new errorCodes[code as keyof typeof errorCodes]('x')
    t.equal(kind, err instanceof TypeError ? 'TypeError' : 'Error', code)
  }
  t.match(readFileSync(new URL('../README.md', import.meta.url), 'utf8'), /\(docs\/errors\.md\)/, 'the README links the table')
})

t.test('a coded error carries its code, is instanceof its constructor, and keeps a cause', async (t) => {
  const cause = new Error('root')
  const err = new errorCodes.FST_ZD_PROM_CLIENT_MISSING('option "metrics" needs prom-client', { cause })
  t.equal(err.code, 'FST_ZD_PROM_CLIENT_MISSING')
  t.equal(err.message, 'fastify-zero-downtime: option "metrics" needs prom-client')
  t.equal(err.cause, cause)
  t.ok(err instanceof errorCodes.FST_ZD_PROM_CLIENT_MISSING)
  t.notOk(err instanceof errorCodes.FST_ZD_INVALID_OPTION, 'one code is not another')
  t.notOk(err instanceof TypeError)
})

t.test('each kind of mistake throws its code', async (t) => {
  const rejects = async (opts: unknown, code: string): Promise<void> => {
    const app = Fastify()
    app.register(zeroDowntime, opts as never)
    await t.rejects(async () => { await app.ready() }, { code }, JSON.stringify(opts))
    await app.close().catch(() => {})
  }
  await rejects({ drain: { delayMs: 'soon' } }, 'FST_ZD_INVALID_OPTION')
  await rejects({ drian: {} }, 'FST_ZD_UNKNOWN_OPTION')
  await rejects({ drain: { requestTimeoutMs: 60_000 } }, 'FST_ZD_BUDGET_EXCEEDED')
  const err = t.throws(() => pgCheck('postgres://user:secret@db/app' as never), { code: 'FST_ZD_INVALID_ARGUMENT' }) as Error
  t.notMatch(err.message, /secret/, 'a connection string is not echoed back')

  const app = Fastify()
  await app.register(zeroDowntime, { pressure: false, drain: { delayMs: 0 } })
  t.throws(() => { app.zeroDowntime.addCleanup('other', 'x', () => {}, 3e9) }, { code: 'FST_ZD_INVALID_ARGUMENT' }, 'a timeout past the timer cap is refused')
  t.throws(() => { app.zeroDowntime.onGoAway(null as never) }, { code: 'FST_ZD_INVALID_ARGUMENT' })
  await app.close()

  await t.rejects(listen(Fastify({ logger: false }), { exit: () => {} }), { code: 'FST_ZD_PLUGIN_REQUIRED' })
})
