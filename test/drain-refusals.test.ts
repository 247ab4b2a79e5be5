// What the drain refuses up front, and the SSE output it never lets a caller
// break (issue 27 items 6 and 7): drain()'s own options, an idle close that
// could not happen before the HTTP deadline, and line breaks in the last
// event's data.
import t from 'tap'
import { endEventStream, resolveDrainConfig } from '../src/drain/index.js'
import { drainApp } from './fixtures/drain/app.js'

t.test('drain() options: a coded TypeError naming the option; unknown keys and an idle close past the deadline refused', async (t) => {
  const { app } = await drainApp()
  await app.ready()
  t.teardown(async () => { await app.close() })
  const refused: Array<[unknown, RegExp]> = [
    [{ idleCloseMs: 'soon' }, /drain\(\) option "idleCloseMs" must be a non-negative number of milliseconds.*got "soon"/],
    [{ idleCloseMs: -1 }, /drain\(\) option "idleCloseMs" must be a non-negative number/],
    [{ idleCloseMs: 3e9 }, /drain\(\) option "idleCloseMs" must be a non-negative number of milliseconds \(at most 2147483647\)/],
    [{ idleCloseMs: NaN }, /drain\(\) option "idleCloseMs"/],
    // QUICK_DRAIN: 10 s grace, 1 s cleanup, 0.5 s margin: the HTTP deadline is 8.5 s after SIGTERM.
    [{ idleCloseMs: 8500 }, /drain\(\) option "idleCloseMs" must be shorter than the HTTP deadline \(8500 ms\), got 8500/],
    [{ idleClose: 100 }, /drain\(\) options must be only delayMs, idleCloseMs, got "idleClose"/],
    [{ delayMs: 0, idlecloseMs: 0 }, /got "idlecloseMs"/],
    [null, /drain\(\) options must be an object \{ delayMs\?, idleCloseMs\? \}, got null/],
    ['fast', /drain\(\) options must be an object/]
  ]
  for (const [options, message] of refused) {
    t.throws(() => { void app.zeroDowntime.drain('x', options as never) }, { code: 'FST_ZD_INVALID_ARGUMENT', message }, JSON.stringify(options))
  }
  try {
    void app.zeroDowntime.drain('x', { idleCloseMs: -1 })
    t.fail('refused')
  } catch (err) {
    t.ok(err instanceof TypeError, 'a TypeError')
  }
  t.equal(app.zeroDowntime.state, 'starting', 'no refused drain() started')
  const report = await app.zeroDowntime.drain('x', { idleCloseMs: 8499, delayMs: 0 })
  t.equal(report.clean, true, 'just inside the deadline: accepted')
})

t.test('drain.idleCloseMs at or past the HTTP deadline is refused at registration', async (t) => {
  const env = { TERMINATION_GRACE_PERIOD_SECONDS: '30' }
  // 30 s grace - 5 s cleanup - 2 s margin: the HTTP deadline is 23 s after SIGTERM.
  t.throws(() => resolveDrainConfig({ idleCloseMs: 23000 }, env), {
    code: 'FST_ZD_BUDGET_EXCEEDED', message: /drain\.idleCloseMs \(23000 ms\) must be shorter than the HTTP deadline \(23000 ms after SIGTERM\)/
  })
  t.throws(() => resolveDrainConfig({ idleCloseMs: 10000, requestTimeoutMs: 1000 }, { TERMINATION_GRACE_PERIOD_SECONDS: '15', PRESTOP_SLEEP_SECONDS: '5' }), {
    code: 'FST_ZD_BUDGET_EXCEEDED', message: /HTTP deadline \(3000 ms after SIGTERM\)/
  }, 'the preStop sleep comes out of the same grace period')
  t.equal(resolveDrainConfig({ idleCloseMs: 22999 }, env).idleCloseMs, 22999)
  t.equal(resolveDrainConfig({}, env).idleCloseMs, 5000, 'the default')
  const short = resolveDrainConfig({ delayMs: 0, requestTimeoutMs: 1000 }, { TERMINATION_GRACE_PERIOD_SECONDS: '10' })
  t.same([short.httpDeadlineMs, short.idleCloseMs], [3000, 1500], 'a grace period too short for the default: half the HTTP deadline')
})

t.test('endEventStream: a lone CR (or CRLF) in data starts a new data line, never a field of its own', async (t) => {
  const chunks: string[] = []
  const sink = { write: (c: string) => chunks.push(c), end: () => {} }
  endEventStream(sink, { data: 'a\revent: admin\rid: 9\r\nretry: 1\nb' })
  t.same(chunks, ['retry: 1000\nevent: reconnect\ndata: a\ndata: event: admin\ndata: id: 9\ndata: retry: 1\ndata: b\n\n'])
  t.throws(() => { endEventStream(sink, { data: 5 as never }) }, { code: 'FST_ZD_INVALID_ARGUMENT', message: /endEventStream option "data" must be a string, got 5/ })
})
