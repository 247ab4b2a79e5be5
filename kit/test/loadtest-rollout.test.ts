// Real rolling updates of real child processes through the simulator: the
// command line, the Deployment rules, the termination sequence and the reports.
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import { rollout } from '../src/cli/rollout.js'
import { FAST, FIXTURE, io, outDir, report } from './helpers/loadtest.js'

// Several real rollouts one after another: minutes on a shared, busy machine (over
// 120 s, the runner's budget per file, at load average 30), whatever the test asserts.
t.setTimeout(300_000)

t.test('two back-to-back rollouts of a draining service drop nothing, in every client shape', async (t) => {
  const out = await outDir(t)
  const o = io(true)
  const code = await rollout([...FAST, '--command', FIXTURE, '--no-baseline', '--scenarios', 'keep-alive,sse',
    '--rollouts', '2', '--max-surge', '50%', '--min-ready-seconds', '0.2', '--out', out], o)
  t.equal(code, 0, o.out())
  const r = await report(out)
  t.equal(r.ok, true)
  t.same(r.runs.map((x) => [x.scenario, x.dropped, x.unsettled]), [['keep-alive', 0, 0], ['sse', 0, 0]])
  const events = r.runs[0]!.events
  for (const type of ['created', 'ready', 'deleted', 'endpoint-removed', 'sigterm', 'exited', 'rollout-complete']) {
    t.ok(events.some((e) => e.type === type), `timeline has ${type}`)
  }
  t.equal(new Set(events.filter((e) => e.type === 'created').map((e) => e.version)).size, 3, 'v1, v2, v3')
  // Order, not milliseconds: timers fire in the order they are due, so the
  // endpoint's removal (0.3 s propagation) comes before the SIGTERM that ends
  // the preStop sleep (0.6 s), for every pod deleted.
  for (const pod of new Set(events.filter((e) => e.type === 'deleted').map((e) => e.pod))) {
    t.same(events.filter((e) => e.pod === pod && ['deleted', 'endpoint-removed', 'sigterm'].includes(e.type)).map((e) => e.type),
      ['deleted', 'endpoint-removed', 'sigterm'], `${pod}: the endpoint leaves the balancer, then SIGTERM after the preStop sleep`)
  }
  t.ok(r.runs[1]!.counts.ok >= 1, 'SSE streams were served')
  // eslint-disable-next-line no-control-regex -- the terminal's erase-line sequence is what is tested
  t.match(o.err(), /\r\x1b\[K\[keep-alive · service\] rollout to v[23] \([12]\/2\) · pods \d ready/, 'live progress line on a TTY, with the phase')
  // eslint-disable-next-line no-control-regex -- the terminal's erase-line sequence is what is tested
  t.match(o.err(), /\r\x1b\[Kkeep-alive \/ service: sent \d+, dropped 0 in [\d.]+ s\n/, 'then the run\'s line in its place')
  t.match(o.out(), /PASS: service dropped no request/)
  t.match(await readFile(join(out, 'report.html'), 'utf8'), /<svg[^>]*>.*<polyline/s)
})

t.test('the baseline (plain Fastify + close-with-grace) runs in the same rollout, counted like the service; only the service decides the exit code', async (t) => {
  const out = await outDir(t)
  const o = io(false)
  const code = await rollout([...FAST, '--scale', '0.3', '--command', FIXTURE, '--scenarios', 'hot-loop', '--out', out], o)
  t.equal(code, 0, o.out())
  const r = await report(out)
  t.same(r.runs.map((x) => x.label), ['service', 'baseline'])
  t.equal(r.runs[0]!.dropped, 0)
  // How many the baseline drops in one short run is a race (that is what it
  // shows, and it may be none); that it ran through a rollout and every
  // request of it was counted is not. How drops are grouped and placed is
  // tested on fixed failures (loadtest-pods.test.ts, report details).
  const baseline = r.runs[1]!
  t.equal(baseline.error, undefined, 'the baseline run completed')
  t.ok(baseline.events.some((e) => e.type === 'rollout-complete'), 'through a whole rollout')
  t.ok(baseline.counts.ok > 0, 'it served requests')
  t.equal(baseline.unsettled, 0, 'every request it sent is accounted for')
  t.equal(baseline.failureGroups.reduce((n, g) => n + g.count, 0), baseline.dropped, `its ${baseline.dropped} drop(s), every one grouped`)
  t.match(o.out(), /hot-loop\s+baseline/)
  // eslint-disable-next-line no-control-regex -- the terminal's erase-line sequence is what is tested
  t.notMatch(o.err(), /\x1b\[K/, 'no progress line when stderr is not a terminal')
  t.match(o.err(), /^hot-loop \/ service: sent \d+, dropped 0 in [\d.]+ s\nhot-loop \/ baseline: sent \d+, dropped \d+ in [\d.]+ s\n$/, 'one plain line per run')
})
