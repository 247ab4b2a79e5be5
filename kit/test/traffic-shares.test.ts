// Does traffic follow the operator? The share logic on fixed data: windows
// from cumulative counters, targets from the Service's endpoint sets, when a
// group came within 10 points and stayed, and how the reports say it.
import t from 'tap'
import { intendedShares } from '../src/cluster/deployment.js'
import { haproxyServed, haproxyWeights } from '../src/network/haproxy.js'
import { describeMoves, summarizeTraffic, trafficNotes, type TrafficRecord } from '../src/report/shares.js'
import { sharesSvg } from '../src/report/shares-html.js'
import { sampleServed } from '../src/run/served-sampler.js'

/** Samples every second from per-second counts (cumulated here, as the counters are). */
function samples (perSecond: ReadonlyArray<Record<string, number>>): TrafficRecord['samples'] {
  const total: Record<string, number> = {}
  const out = [{ at: 0, served: {} }]
  perSecond.forEach((counts, i) => {
    for (const [pod, n] of Object.entries(counts)) total[pod] = (total[pod] ?? 0) + n
    out.push({ at: (i + 1) * 1000, served: { ...total } })
  })
  return out
}

// A scale-up: a and b serve alone; at 2 s c and d join (each pod 25 %, the added group 50 %);
// the added pods get nothing for 2 s, then 30 %, then their fair share for good.
const scaleUp: TrafficRecord = {
  strategy: 'scale-up',
  samples: samples([
    { a: 50, b: 50 }, { a: 50, b: 50 },
    { a: 50, b: 50, c: 0, d: 0 }, { a: 50, b: 50 },
    { a: 35, b: 35, c: 15, d: 15 },
    { a: 25, b: 25, c: 25, d: 25 }, { a: 26, b: 24, c: 25, d: 25 }, { a: 25, b: 25, c: 24, d: 26 }
  ]),
  changes: [
    { at: -500, intended: { a: 0.5, b: 0.5 } },
    { at: 2000, intended: { a: 0.25, b: 0.25, c: 0.25, d: 0.25 } }
  ],
  groups: { a: 'original', b: 'original', c: 'added', d: 'added' }
}

t.test('a scale-up: shares per window, targets from the endpoints, followed when within 10 points for good', async (t) => {
  const s = summarizeTraffic(scaleUp)
  t.same(s.bounds, [0, 1000, 2000, 3000, 4000, 5000, 6000, 7000, 8000])
  t.same(s.groups.map((g) => g.name), ['original', 'added'])
  const added = s.groups[1]!
  t.same(added.shares, [0, 0, 0, 0, 0.3, 0.5, 0.5, 0.5])
  t.same(added.targets, [0, 0, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5], 'the target from the window the endpoints changed in')
  t.same(s.pods.map((p) => p.name), ['a', 'b', 'c', 'd'])
  t.same(s.pods[2]!.targets, [0, 0, 0.25, 0.25, 0.25, 0.25, 0.25, 0.25])
  t.equal(s.moves.length, 2, 'the endpoint set when the load started, and the scale-up')
  t.same(s.moves[0], {
    at: 0,
    untilMs: 2000,
    groups: [
      { group: 'original', target: 1, followedAfterMs: 1000, endShare: 1 },
      { group: 'added', target: 0, followedAfterMs: 1000, endShare: 0 }
    ]
  })
  // 30 % is 20 points short of 50 %; from the window ending at 6 s on, it stays on target.
  // The share at the end is the last 5 s: 180 of 500 requests.
  t.same(s.moves[1]!.groups[1], { group: 'added', target: 0.5, followedAfterMs: 4000, endShare: 0.36 })
  t.same(describeMoves(s), [
    'at 0.0 s for 2.0 s  original: asked 100 %, got 100 %, followed after 1.0 s · added: asked 0 %, got 0 %, followed after 1.0 s',
    'at 2.0 s for 6.0 s  original: asked 50 %, got 64 %, followed after 4.0 s · added: asked 50 %, got 36 %, followed after 4.0 s'
  ])
})

t.test('a blue-green switch that pooled clients do not follow; a share that leaves its target again is not followed', async (t) => {
  const s = summarizeTraffic({
    strategy: 'blue-green',
    samples: samples([{ b1: 100 }, { b1: 100, g1: 0 }, { b1: 95, g1: 5 }, { b1: 0, g1: 100 }, { b1: 100, g1: 0 }, {}]),
    changes: [{ at: 0, intended: { b1: 1 } }, { at: 1000, intended: { g1: 1 } }],
    groups: { b1: 'blue', g1: 'green' }
  })
  const green = s.moves[1]!.groups[1]!
  t.equal(green.target, 1)
  t.equal(green.followedAfterMs, null, 'on target at 4 s, then not: not followed')
  t.equal(green.endShare, 0.2625, 'the mean over the last 5 s: 105 of 400 (a window without requests counts nothing)')
  t.same(s.groups[1]!.shares, [0, 0, 0.05, 1, 0, null], 'a window without requests has no share')
  t.match(describeMoves(s)[1], /green: asked 100 %, got 26 %, not followed/)
})

t.test('changes that move no group (a pod replaced in its group) or come before the load are no moves; a move with no whole window is left out of the text', async (t) => {
  const s = summarizeTraffic({
    strategy: 'rolling',
    samples: samples([{ a: 10 }, { b: 10 }, { a: 5, c: 5 }]),
    changes: [
      { at: -2000, intended: { x: 1 } },
      { at: -1000, intended: { a: 1 } },
      { at: 1000, intended: { b: 1 } },
      { at: 2200, intended: { a: 0.5, c: 0.5 } },
      { at: 2500, intended: { a: 1 } }
    ],
    groups: { a: 'v1', b: 'v1', c: 'v2', x: 'v0' }
  })
  t.same(s.moves.map((m) => m.at), [0, 2200, 2500], 'the set in force at the start; b replacing a moves no group')
  t.same(s.moves.map((m) => m.untilMs), [2200, 2500, 3000])
  t.same(s.moves[1]!.groups.map((g) => [g.group, g.target]), [['v0', 0], ['v1', 0.5], ['v2', 0.5]], 'v0 has no pod left')
  t.same(s.pods.map((p) => p.name), ['x', 'a', 'b', 'c'])
  t.same(s.pods[1]!.targets, [1, 0, 0], 'the target in force at each window start: b took over from a at 1 s')
  t.equal(describeMoves(s).length, 1, 'the moves of 0.3 s and 0.5 s, with no whole window, are not in the text')
  const empty = summarizeTraffic({ strategy: 'scale-up', samples: [], changes: [], groups: {} })
  t.same(empty, { bounds: [], groups: [], pods: [], moves: [] }, 'no sample: nothing to say')
  t.same(summarizeTraffic({ strategy: 'x', samples: samples([{ a: 1 }]), changes: [{ at: 100, intended: { a: 1 } }], groups: {} }).moves,
    [{ at: 100, untilMs: 1000, groups: [{ group: 'a', target: 1, followedAfterMs: null, endShare: null }] }],
    'nothing in force when the load started; a change within the only window: a move too short to measure')
  const short = summarizeTraffic({ strategy: 'x', samples: samples([{ a: 1 }, { a: 1 }]), changes: [{ at: -1, intended: { a: 1 } }, { at: 500, intended: { a: 0.5, b: 0.5 } }, { at: 900, intended: { a: 1 } }], groups: {} })
  t.equal(short.moves.length, 3)
  t.same(describeMoves(short), ['at 0.9 s for 1.1 s  a: asked 100 %, got 100 %, followed after 1.1 s · b: asked 0 %, got 0 %, followed after 1.1 s'],
    'the moves of 0.5 s and 0.4 s, with no whole window, are not in the text')
  t.same(short.groups.map((g) => g.name), ['a', 'b'], 'without a group, a pod is its own group')
})

t.test('the text and the HTML say it per run; runs without a record say nothing', async (t) => {
  t.same(trafficNotes({ scenario: 'hot-loop', label: 'service' }), [])
  t.same(trafficNotes({ scenario: 'hot-loop', label: 'service', traffic: { strategy: 'x', samples: [], changes: [], groups: {} } }), [])
  const lines = trafficNotes({ scenario: 'hot-loop', label: 'service', traffic: scaleUp })
  t.match(lines[1], /^hot-loop \/ service: traffic under scale-up \(per group: the share the Service asked for, the share it got over the last 5 s, and when it came within 10 points and stayed\)$/)
  t.match(lines[3], /^ {2}at 2\.0 s for 6\.0 s {2}original: asked 50 %/)
  const axis = { width: 1000, left: 100, plot: 800, x: (at: number) => 100 + at / 10 }
  const events = [{ at: 2000, type: 'operator' as const, pod: 'operator', version: '', detail: 'scale 2 -> 4' }, { at: 1000, type: 'operator' as const, pod: 'operator', version: '' }]
  const svg = sharesSvg(summarizeTraffic(scaleUp), events, axis, 'hot-loop / <service>')
  t.match(svg, /aria-label="hot-loop \/ &#60;service&#62;: share of requests per group over time/)
  t.match(svg, /<g data-group="added">.*<polyline class="target" points="100\.0,110\.0 200\.0,110\.0 200\.0,110\.0 300\.0,110\.0 300\.0,65\.0 /, 'the added group: asked 0 %, then 50 % from 2 s')
  t.match(svg, />scale 2 -&#62; 4</, 'the operator\'s actions, labelled')
  t.equal(sharesSvg(summarizeTraffic({ strategy: 'x', samples: [], changes: [], groups: {} }), [], axis, 'x'), '', 'nothing counted: no chart')
  const gap = sharesSvg(summarizeTraffic({ strategy: 'x', samples: samples([{ a: 1 }, {}, { a: 1 }]), changes: [], groups: {} }), [], axis, 'x')
  t.equal(gap.match(/class="share"/g)?.length, 2, 'a window without requests breaks the line')
})

t.test('intended shares: alike, or by weight; HAProxy weights and served counters', async (t) => {
  t.same(intendedShares([{ name: 'a', host: 'h', port: 1 }, { name: 'b', host: 'h', port: 2 }]), { a: 0.5, b: 0.5 })
  t.same(intendedShares([{ name: 'a', host: 'h', port: 1, weight: 30 }, { name: 'b', host: 'h', port: 2, weight: 10 }]), { a: 0.75, b: 0.25 })
  t.same(intendedShares([{ name: 'a', host: 'h', port: 1, weight: 0 }]), { a: 0 }, 'no weight at all: nothing intended')
  t.same([...haproxyWeights([{ name: 'a', host: 'h', port: 1, weight: 30 }, { name: 'b', host: 'h', port: 2, weight: 10 }, { name: 'c', host: 'h', port: 3 }])], [['a', 256], ['b', 85], ['c', 9]])
  t.same([...haproxyWeights([{ name: 'a', host: 'h', port: 1, weight: 0 }])], [['a', 0]])
  const csv = '# pxname,svname,hrsp_1xx,hrsp_2xx,hrsp_5xx,stot\nfe,FRONTEND,0,9,0,9\npods,a,0,5,1,6\npods,b,,3,0,3\npods,BACKEND,0,8,1,9\n'
  t.same(haproxyServed(csv), { a: 6, b: 3 }, 'every response a server sent, by server')
})

t.test('the sampler: one cumulative sample at start, one per window, one at stop; a failed read is skipped', async (t) => {
  let calls = 0
  let now = 0
  const sampler = sampleServed(async () => {
    calls++
    if (calls === 2) throw new Error('counters unreadable')
    return { a: calls }
  }, () => now++, 1)
  // Bounded by its own count: the timer takes a sample each millisecond.
  for (let i = 0; i < 1000 && calls < 4; i++) await new Promise((resolve) => setTimeout(resolve, 2))
  const got = await sampler.stop()
  t.ok(got.length >= 3, `${got.length} samples`)
  t.same(got[0], { at: 0, served: { a: 1 } })
  t.notOk(got.some((s) => s.served.a === 2), 'the failed read left no sample')
  t.same(got.map((s) => s.at), [...got.map((s) => s.at)].sort((x, y) => x - y), 'in order')
  const after = calls
  await new Promise((resolve) => setTimeout(resolve, 10))
  t.equal(calls, after, 'no sample after stop')
})
