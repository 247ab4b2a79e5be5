// A short real rollout of the example service (examples/service) next to the
// baseline on the kit's relay (network-kernel-example.test.ts runs it on the
// kernel data path): the service must drop nothing; the full matrix is `npm run rollout`.
// Whether the baseline drops in one short run is a race (it may drop none), so
// of the baseline only what is certain is asserted: it ran through the
// rollout and every request it sent was counted and every drop grouped.
import { PassThrough } from 'node:stream'
import t from 'tap'
import { outDir, report } from './helpers/loadtest.js'
import { rollout } from '../src/cli/rollout.js'

// Several real rollouts one after another: minutes on a shared, busy machine (over
// 120 s, the runner's budget per file, at load average 30), whatever the test asserts.
t.setTimeout(300_000)

t.test('the example service drops nothing; the baseline runs through the same rollout, every request counted, in one run', async (t) => {
  const out = await outDir(t)
  const stdout = new PassThrough()
  let text = ''
  stdout.on('data', (c: Buffer) => { text += c.toString() })
  const code = await rollout(['--network', 'userspace', '--scenarios', 'hot-loop,slow', '--scale', '0.3', '--replicas', '2', '--prestop-seconds', '1.5',
    '--propagation-seconds', '0.5', '--readiness-period-seconds', '0.3', '--steady-seconds', '0.5', '--out', out], { stdout, stderr: new PassThrough() })
  t.equal(code, 0, text)
  const r = await report(out)
  t.same(r.runs.map((r) => [r.scenario, r.label]), [['hot-loop', 'service'], ['hot-loop', 'baseline'], ['slow', 'service'], ['slow', 'baseline']])
  const sum = (counts: Record<string, number>): number => Object.values(counts).reduce((n, c) => n + c, 0)
  for (const run of r.runs) {
    const name = `${run.scenario}/${run.label}`
    t.equal(run.error, undefined, `${name}: the run completed`)
    t.ok(run.events.some((e) => e.type === 'rollout-complete' && e.version === 'v2'), `${name}: through a whole rollout to v2`)
    t.equal(run.unsettled, 0, `${name}: every request it sent was settled`)
    t.ok(run.counts.ok > 0, `${name}: served requests`)
    t.equal(run.counts.sent, run.counts.ok + sum(run.counts.statuses) + sum(run.counts.failed), `${name}: sent = 2xx + non-2xx + failed`)
    t.equal(run.dropped, sum(run.counts.statuses) + sum(run.counts.failed), `${name}: dropped = non-2xx + failed`)
    t.equal(run.failureGroups.reduce((n, g) => n + g.count, 0), run.dropped, `${name}: its ${run.dropped} drop(s), every one grouped`)
    if (run.label !== 'service') continue
    t.equal(run.dropped, 0, `${run.scenario}: the example service drops nothing`)
    // The plugin's own DrainReport, read field by field with the type the kit imports from it.
    const drained = run.pods.filter((p) => p.goneAfterDeletionMs !== undefined)
    t.ok(drained.length > 0 && drained.every((p) => p.endings !== undefined && p.drainReportProblem === undefined), `${run.scenario}: every deleted pod's drain report read whole`)
  }
})
