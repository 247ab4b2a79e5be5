// A short real rollout of the example service (examples/service) next to the
// baseline: the service must drop nothing; the full matrix is `npm run rollout`.
import { PassThrough } from 'node:stream'
import t from 'tap'
import { outDir, report } from './helpers/loadtest.js'
import { rollout } from '../src/cli/rollout.js'

t.test('the example service drops nothing while the baseline drops, in one run', async (t) => {
  const out = await outDir(t)
  const stdout = new PassThrough()
  let text = ''
  stdout.on('data', (c: Buffer) => { text += c.toString() })
  const code = await rollout(['--scenarios', 'hot-loop,slow', '--scale', '0.3', '--replicas', '2', '--prestop-seconds', '1.5',
    '--propagation-seconds', '0.5', '--readiness-period-seconds', '0.3', '--steady-seconds', '0.5', '--out', out], { stdout, stderr: new PassThrough() })
  t.equal(code, 0, text)
  const r = await report(out)
  t.same(r.runs.map((r) => [r.scenario, r.label]), [['hot-loop', 'service'], ['hot-loop', 'baseline'], ['slow', 'service'], ['slow', 'baseline']])
  for (const run of r.runs) {
    t.equal(run.unsettled, 0)
    t.ok(run.counts.ok > 0, `${run.scenario}/${run.label} served requests`)
    if (run.label === 'service') t.equal(run.dropped, 0, `${run.scenario}: the example service drops nothing`)
    else t.ok(run.dropped > 0, `${run.scenario}: the baseline drops (${run.dropped})`)
  }
})
