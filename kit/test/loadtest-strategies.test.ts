// Every `rollout --strategy` for real, compressed to seconds: replicas are
// real processes, the balancer is real, and each run counts every request and
// what share of them each pod and group answered against what the Service
// asked for. Which shares traffic reaches needs connection max age in the
// service (the fixture has none): these tests assert that the moves happen,
// drop nothing and are measured, not how fast pooled clients follow.
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { rollout } from '../src/cli/rollout.js'
import { scaleDownVictims } from '../src/cluster/strategies/scale.js'
import type { Pod } from '../src/cluster/pod.js'
import { FAST, FIXTURE, io, outDir, report } from './helpers/loadtest.js'

const HOLD = ['--hold-seconds', '0.5']

/** One strategy, one scenario, the service only; returns its run and the command's output. */
async function strategyRun (t: Test, strategy: string, extra: readonly string[] = []) {
  const out = await outDir(t)
  const o = io()
  const code = await rollout([...FAST, ...HOLD, '--command', FIXTURE, '--no-baseline', '--scenarios', 'hot-loop', '--strategy', strategy, ...extra, '--out', out], o)
  t.equal(code, 0, o.out())
  const r = await report(out)
  const run = r.runs[0]!
  t.equal(run.dropped, 0, `${strategy}: nothing dropped`)
  t.equal(run.unsettled, 0)
  t.equal(run.traffic?.strategy, strategy)
  return { run, out: o.out(), html: await readFile(join(out, 'report.html'), 'utf8') }
}

const acts = (run: { events: ReadonlyArray<{ type: string, detail?: string }> }): Array<string | undefined> => run.events.filter((e) => e.type === 'operator').map((e) => e.detail)

t.test('scale-up: the added pods, measured from the load on; text, JSON and HTML carry the shares', async (t) => {
  // The text lists a move once a sample window closed inside it (1 s windows):
  // half a second after the added pods are available may close none.
  const { run, out, html } = await strategyRun(t, 'scale-up', ['--hold-seconds', '3'])
  t.same(acts(run), ['scale 2 -> 4'])
  const shares = run.shares!
  t.same(shares.groups.map((g) => g.name), ['original', 'added'])
  t.equal(new Set(run.events.filter((e) => e.type === 'created').map((e) => e.pod)).size, 4, '2 then 4 pods')
  const last = shares.moves[shares.moves.length - 1]!
  t.same(last.groups.map((g) => [g.group, g.target]), [['original', 0.5], ['added', 0.5]], 'the Service asks for half on the added pods')
  const answered = run.traffic!.samples.at(-1)!.served
  t.equal(Object.values(answered).reduce((a, b) => a + b, 0), run.counts.ok, 'through L4 every answered request is counted on its pod')
  t.match(out, /hot-loop \/ service: traffic under scale-up/)
  t.match(out, /original: asked 50 %, got \d+ %/)
  t.match(html, /<svg[^>]*class="timeline shares".*data-group="added"/s)
  t.match(html, /scale 2 -&#62; 4/)
})

t.test('blue-green: switch, switch back, switch again, blue deleted; nothing dropped', async (t) => {
  const { run, out } = await strategyRun(t, 'blue-green')
  t.same(acts(run), ['switch to green', 'switch to blue', 'switch to green', 'blue deleted'])
  t.same(run.shares!.groups.map((g) => g.name), ['blue', 'green'])
  const targets = run.shares!.moves.map((m) => m.groups.find((g) => g.group === 'green')!.target)
  t.same(targets, [0, 1, 0, 1], 'the Service asks for green, blue, green')
  const blue = run.events.filter((e) => e.type === 'exited' && e.version === 'blue')
  t.equal(blue.length, 2, 'blue is gone at the end')
  t.match(out, /green: asked 100 %, got \d+ %/)
  t.match(run.events.find((e) => e.type === 'rollout-started')!.version, 'blue')
})

t.test('scale-down: the pods the ReplicaSet ranks first go; the kept ones get everything asked', async (t) => {
  const { run } = await strategyRun(t, 'scale-down')
  t.same(acts(run), ['scale 4 -> 2'])
  const removed = Object.entries(run.traffic!.groups).filter(([, g]) => g === 'removed').map(([p]) => p)
  t.equal(removed.length, 2)
  t.same(removed.sort(), run.events.filter((e) => e.type === 'deleted').map((e) => e.pod).sort(), 'exactly the deleted pods')
  const last = run.shares!.moves.at(-1)!
  t.same(last.groups.map((g) => [g.group, g.target]), [['kept', 1], ['removed', 0]])
})

t.test('scale-down victims: the most recently ready first, then the newest', async (t) => {
  const pod = (name: string): Pod => ({ name }) as unknown as Pod
  const [a, b, c, d] = ['a', 'b', 'c', 'd'].map(pod) as [Pod, Pod, Pod, Pod]
  const ready = new Map([[a, 100], [b, 300], [c, 200], [d, 200]])
  const cluster = { live: [a, b, c, d], pods: [a, b, c, d], readySince: (p: Pod) => ready.get(p) }
  t.same(scaleDownVictims(cluster, 3).map((p) => p.name), ['b', 'd', 'c'], 'b was ready last; c and d together, d is newer')
})

t.test('canary by replica count: one v2 pod among the stable ones, then removed', async (t) => {
  const { run } = await strategyRun(t, 'canary')
  t.same(acts(run), ['canary: 1 pod of v2', 'canary removed'])
  const canaryTargets = run.shares!.moves.map((m) => m.groups.find((g) => g.group === 'canary')!.target)
  t.same(canaryTargets.map((x) => Math.round(x * 100)), [0, 33, 0], 'a third of the endpoints, then none')
})

t.test('undo: a rolling update to v2 taken over by one back to v1', async (t) => {
  const { run } = await strategyRun(t, 'undo', ['--replicas', '3'])
  t.same(acts(run), ['rollout to v2', 'rollout undo'])
  t.ok(run.events.some((e) => e.type === 'rollout-stopped' && e.version === 'v2'), 'the rollout to v2 stopped midway')
  t.ok(run.events.some((e) => e.type === 'rollout-complete' && e.version === 'v1' && e.at > 0), 'and v1 rolled back in')
  const live = new Set(run.events.filter((e) => e.type === 'created').map((e) => e.pod))
  for (const e of run.events.filter((x) => x.type === 'exited')) live.delete(e.pod)
  const v2 = run.events.filter((e) => e.type === 'created' && e.version === 'v2').map((e) => e.pod)
  t.ok(v2.length >= 2, `v2 pods were created (${v2.length})`)
  t.ok(v2.every((p) => run.events.some((e) => e.type === 'deleted' && e.pod === p)), 'every v2 pod was deleted')
})

for (const proxy of ['l7', 'nginx']) {
  t.test(`canary by weight through ${proxy}: 10, 25, 50, 100 % of the requests, counted by the proxy`, async (t) => {
    // Each weight held 2 s: the last sampling window lies wholly after the 100 % step reached the proxy.
    const { run } = await strategyRun(t, 'canary-weighted', ['--proxy', proxy, '--hold-seconds', '2'])
    t.same(acts(run), ['canary weight 10 %', 'canary weight 25 %', 'canary weight 50 %', 'canary weight 100 %'])
    const targets = run.shares!.moves.map((m) => Math.round(m.groups.find((g) => g.group === 'canary')!.target * 100))
    t.same(targets, [0, 10, 25, 50, 100])
    const answered = run.traffic!.samples.at(-1)!.served
    t.same(Object.keys(answered).sort(), run.events.filter((e) => e.type === 'created').map((e) => e.pod).sort(), 'the proxy counted requests on every pod, by name')
    // Per request, not per connection: with all of the weight, the canary serves everything.
    t.equal(run.shares!.groups.find((g) => g.name === 'canary')!.shares.at(-1), 1, 'at 100 % the stable pods get none')
  })
}

t.test('--strategy: unknown names and a weighted canary without an L7 proxy are usage errors', async (t) => {
  const unknown = io()
  t.equal(await rollout(['--strategy', 'big-bang', '--command', FIXTURE], unknown), 2)
  t.match(unknown.err(), /--strategy must be one of rolling, scale-up, scale-down, blue-green, canary, canary-weighted, undo, got "big-bang"/)
  const l4 = io()
  t.equal(await rollout(['--strategy', 'canary-weighted', '--command', FIXTURE], l4), 2)
  t.match(l4.err(), /--strategy canary-weighted moves traffic by weight, which kube-proxy cannot: use --proxy l7 or --proxy nginx/)
  const help = io()
  t.equal(await rollout(['--help'], help), 0)
  t.match(help.out(), /--hold-seconds <s>\s+how long each traffic move/)
})
