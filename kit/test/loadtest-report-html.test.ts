// The HTML report as a person sees it: rendered by a real headless Chromium
// from real runs, then read back from the DOM. One lane per pod with its
// events labelled, each drop on the lane of the pod that dropped it, drops of
// an unknown pod on their own lane, a time axis in seconds, nothing fetched.
// Whether a short real run drops anything is a race, so the drops placed on
// lanes are fixed ones added to a real run's result, at its pods' SIGTERMs.
import { existsSync } from 'node:fs'
import { rm, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Page } from 'playwright-core'
import t, { type Test } from 'tap'
import { rollout } from '../src/cli/rollout.js'
import { DEFAULT_POD, parseCommand, type ClusterSpec } from '../src/cluster/spec.js'
import { htmlReport, lanesOf, POD_EVENTS, UNKNOWN_POD } from '../src/report/html.js'
import { BIN_MS, type FailureRecord } from '../src/load/accounting.js'
import { jsonReport, type ReportFile } from '../src/report/json.js'
import { runScenario } from '../src/run/measured-run.js'
import type { RunResult } from '../src/run/result.js'
import { selectScenarios } from '../src/load/scenarios.js'
import { CHROMIUM, launch, openReport, screenshot } from './helpers/browser.js'
import { FAST, FIXTURE, io, report } from './helpers/loadtest.js'

type Run = ReportFile['runs'][number]

interface LaneSeen {
  pod: string
  name: string
  events: Array<{ type: string, text: string }>
  drops: Array<{ pod: string, count: number, inside: boolean }>
}

/** What the page shows for each run section: its lanes, their events and drop markers, the axis. */
async function seen (page: Page): Promise<Array<{ scenario: string, label: string, lanes: LaneSeen[], ticks: string[], axis: string }>> {
  return await page.$$eval('section.run', (sections) => sections.map((s) => ({
    scenario: s.getAttribute('data-scenario') as string,
    label: s.getAttribute('data-label') as string,
    lanes: [...s.querySelectorAll('g.lane')].map((lane) => {
      const box = (lane.firstElementChild as SVGGraphicsElement).getBoundingClientRect()
      return {
        pod: lane.getAttribute('data-pod') as string,
        name: lane.querySelector('.lane-name')?.textContent ?? '',
        events: [...lane.querySelectorAll('g.event')].map((e) => ({ type: e.getAttribute('data-type') as string, text: e.querySelector('text')?.textContent ?? '' })),
        drops: [...lane.querySelectorAll('rect.drop')].map((d) => {
          const r = d.getBoundingClientRect()
          return {
            pod: d.getAttribute('data-pod') as string,
            count: Number(d.getAttribute('data-count')),
            // Drawn inside its lane's band, not just listed under it.
            inside: r.top >= box.top && r.bottom <= box.bottom && r.width > 0 && r.height > 0
          }
        })
      }
    }),
    ticks: [...s.querySelectorAll('.axis .tick')].map((x) => x.textContent as string),
    axis: s.querySelector('.axis')?.textContent ?? ''
  })))
}

/** The lanes a run must show, from its JSON: pods in order of their first event, `?` last when needed. */
function expectedLanes (r: Pick<Run, 'events' | 'failures'>): string[] {
  const pods = [...new Set(r.events.filter((e) => e.type in POD_EVENTS).map((e) => e.pod))]
  for (const f of r.failures) if (f.pod !== undefined && !pods.includes(f.pod)) pods.push(f.pod)
  return r.failures.some((f) => f.pod === undefined) ? [...pods, UNKNOWN_POD] : pods
}

/** Checks one rendered run against its JSON: lanes, labelled events, drops on the right lane. */
function checkRun (t: Test, run: Run, shown: LaneSeen[]): void {
  t.same(shown.map((l) => l.pod), expectedLanes(run), `${run.scenario} / ${run.label}: one lane per pod`)
  for (const lane of shown) {
    const events = run.events.filter((e) => e.pod === lane.pod && e.type in POD_EVENTS)
    t.same(lane.events.map((e) => e.type), events.map((e) => e.type), `${lane.pod}: its events, in order`)
    for (const e of lane.events) t.ok(e.text.startsWith(POD_EVENTS[e.type as keyof typeof POD_EVENTS]!.label), `${lane.pod}: ${e.type} labelled "${e.text}"`)
    const failures = run.failures.filter((f) => (f.pod ?? UNKNOWN_POD) === lane.pod).length
    t.equal(lane.drops.reduce((n, d) => n + d.count, 0), failures, `${lane.pod}: ${failures} drops on its lane`)
    t.ok(lane.drops.every((d) => d.pod === lane.pod && d.inside), `${lane.pod}: every drop marker drawn inside its lane`)
  }
}

/** FIXED resets on every pod of a run that got SIGTERM, just after it: drops known to be there, whatever the real run dropped. */
const FIXED = 3

/** `run` with FIXED resets added per SIGTERMed pod (counts, drop histogram and failures kept consistent). */
function withFixedDrops (run: Run, label: string): { run: RunResult, pods: string[] } {
  const pods = [...new Set(run.events.filter((e) => e.type === 'sigterm').map((e) => e.pod))]
  const fixed: FailureRecord[] = run.events.filter((e) => e.type === 'sigterm')
    .flatMap((e) => Array.from({ length: FIXED }, (_, i) => ({ at: e.at + i + 1, kind: 'reset', pod: e.pod })))
  const drops = [...run.drops]
  for (const f of fixed) {
    const bin = Math.floor(f.at / BIN_MS)
    for (let i = drops.length; i <= bin; i++) drops.push(0)
    drops[bin] = drops[bin]! + 1
  }
  const counts = { ...run.counts, sent: run.counts.sent + fixed.length, failed: { ...run.counts.failed, reset: (run.counts.failed.reset ?? 0) + fixed.length } }
  const failures = [...run.failures, ...fixed].sort((a, b) => a.at - b.at)
  return { run: { ...run, label, counts, dropped: run.dropped + fixed.length, failures, drops }, pods }
}

t.test('a real rollout, service and baseline side by side: lanes, labelled events, drops on the pod that dropped them', async (t) => {
  t.ok(existsSync(CHROMIUM), `${CHROMIUM} (Debian chromium; .ci/run installs it)`)
  t.saveFixture = true
  const dir = t.testdir({})
  const out = join(dir, 'rollout')
  const o = io(false)
  t.equal(await rollout([...FAST, '--scale', '0.3', '--command', FIXTURE, '--scenarios', 'hot-loop', '--out', out], o), 0, o.out())
  const json = await report(out)
  const baseline = json.runs.find((r) => r.label === 'baseline')!
  // The real baseline run may or may not have dropped (a race): drops to place are added, fixed.
  const { run: placed, pods: sigtermed } = withFixedDrops(baseline, 'baseline, fixed drops')
  t.ok(sigtermed.length > 0, `the rollout sent SIGTERM to ${sigtermed.join(', ')}: pods to place drops on`)

  // The same drops as a client that cannot tell the pod sees them (L7, undici, check).
  const blind: RunResult = { ...placed, label: 'baseline, pod unknown', failures: placed.failures.map(({ pod: _pod, ...f }) => f) }
  // A pod that ignores SIGTERM: SIGKILL at the grace period, from a real run.
  const stubborn = await runScenario({
    scenario: selectScenarios(['hot-loop'])[0]!, label: 'stubborn', rollouts: 1, requestTimeoutMs: 2000, scale: 0.05, steadyMs: 200,
    cluster: {
      proxy: 'l4', propagationMs: 100, strategy: { replicas: 1, maxSurge: 0, maxUnavailable: '100%', minReadyMs: 0 },
      pod: { ...DEFAULT_POD, preStopSleepMs: 0, gracePeriodMs: 800, command: parseCommand(FIXTURE), cwd: process.cwd(), env: { FIXTURE_MODE: 'stubborn' }, readiness: { path: '/ready', periodMs: 100, timeoutMs: 500, failureThreshold: 1, successThreshold: 1 } }
    } satisfies ClusterSpec
  })
  t.ok(stubborn.events.some((e) => e.type === 'sigkill'), 'the stubborn pod was SIGKILLed')
  const extra = jsonReport([placed, blind, stubborn], 'service')
  const extraFile = join(dir, 'extra.html')
  await writeFile(extraFile, htmlReport(extra, 'service'))

  const context = await launch(join(dir, 'chromium-profile'))
  t.teardown(async () => { await context.close() })
  const { page, external } = await openReport(context, join(out, 'report.html'))
  const runs = await seen(page)
  t.same(runs.map((r) => [r.scenario, r.label]), [['hot-loop', 'service'], ['hot-loop', 'baseline']])
  t.equal(await page.locator('.pair').count(), 1, 'one row per scenario')
  const [left, right] = await page.$$eval('section.run', (s) => s.map((x) => x.getBoundingClientRect().left))
  t.ok(right! > left!, 'service and baseline side by side in a wide window')
  for (const [i, r] of json.runs.entries()) {
    checkRun(t, r, runs[i]!.lanes)
    t.equal(runs[i]!.ticks[0], '0', 'the time axis starts at 0 s')
    t.ok(runs[i]!.ticks.map(Number).every((s, j, all) => j === 0 || s > all[j - 1]!), `ticks in seconds, increasing: ${runs[i]!.ticks.join(' ')}`)
    t.ok(Number(runs[i]!.ticks.at(-1)) <= Math.max(...json.runs.map((x) => x.durationMs)) / 1000, 'no tick past the longer run')
    t.match(runs[i]!.axis, /seconds since the run started/)
  }
  t.same(runs[0]!.ticks, runs[1]!.ticks, 'one time scale for the runs of a scenario')
  const legend = await page.locator('.legend').textContent()
  for (const e of Object.values(POD_EVENTS)) t.match(legend, e.label, `legend: ${e.label}`)
  t.same(external, [], 'self-contained: the page fetched nothing')
  const png = join(dir, 'report.png')
  await screenshot(page, png)
  t.ok((await stat(png)).size > 10_000, `screenshot saved: ${png}`)

  const other = await openReport(context, extraFile)
  const extraRuns = await seen(other.page)
  t.same(extraRuns.map((r) => r.label), ['baseline, fixed drops', 'baseline, pod unknown', 'stubborn'])
  for (const [i, r] of extra.runs.entries()) checkRun(t, r, extraRuns[i]!.lanes)
  for (const pod of sigtermed) {
    const lane = extraRuns[0]!.lanes.find((l) => l.pod === pod)!
    t.ok(lane.drops.reduce((n, d) => n + d.count, 0) >= FIXED, `${pod}: the ${FIXED} drops placed at its SIGTERM are on its lane`)
  }
  const unknown = extraRuns[1]!.lanes.at(-1)!
  t.equal(unknown.name, 'unknown pod')
  t.equal(unknown.drops.reduce((n, d) => n + d.count, 0), placed.dropped, 'every drop of a client that cannot tell the pod is on the unknown-pod lane')
  t.ok(extraRuns[1]!.lanes.slice(0, -1).every((l) => l.drops.length === 0), 'and none on a pod lane')
  const killed = extraRuns[2]!.lanes.find((l) => l.events.some((e) => e.type === 'sigkill'))!
  t.same(killed.events.filter((e) => ['sigkill', 'exited'].includes(e.type)).map((e) => e.text), ['SIGKILL', 'exited (SIGKILL)'], 'SIGKILL at the grace period, labelled')
  t.ok(extraRuns[2]!.lanes.some((l) => l.events.some((e) => e.text === 'exited (killed at end of run)')), 'the pod still running at the end is told apart from one killed at its deadline')
  t.same(other.external, [])
  await context.close()
  await rm(join(dir, 'chromium-profile'), { recursive: true, force: true })
})

t.test('edges of the drawing: a cluster rollout seen by `check`, a failed run, drops of a pod with no event', async (t) => {
  const base = {
    scenario: 's', description: 'd', command: ['x'], durationMs: 3000, counts: { sent: 10, ok: 6, statuses: { 503: 1 }, failed: { reset: 3 }, retried: 0 },
    unsettled: 0, latencyMs: { p50: 1, p99: 2 }, throughput: [4, 4, 4], drops: [1, 1, 0, 0, 0, 1], balancer: { connections: 0, noEndpoint: 0, upstreamErrors: 0 }, pods: []
  }
  // `check` against a cluster: events without versions or exit detail, a pod still terminating at the end, pods unknown.
  const check: RunResult = {
    ...base, label: 'web', proxy: 'cluster', dropped: 1,
    events: [
      { at: 100, type: 'rollout-started', pod: 'deployment/web', version: 'restart' },
      { at: 400, type: 'deleted', pod: 'web-abc', version: '?' },
      { at: 900, type: 'deleted', pod: 'web-def', version: '?' },
      { at: 1900, type: 'exited', pod: 'web-def', version: '?' }
    ],
    failures: [{ at: 1200, kind: 'status 503' }]
  }
  // A service run that failed half-way: a rollout that never completed, a pod endpoint at the end, drops in two clusters.
  const failed: RunResult = {
    ...base, label: 'service', proxy: 'l4', dropped: 3, error: 'pod web-v2-2 exited before it was deleted',
    events: [
      { at: 0, type: 'rollout-started', pod: 'deployment/web', version: 'v1' },
      { at: 10, type: 'created', pod: 'web-v1-1', version: 'v1', detail: 'port 1' },
      { at: 200, type: 'ready', pod: 'web-v1-1', version: 'v1' },
      { at: 300, type: 'endpoint-added', pod: 'web-v1-1', version: 'v1' },
      { at: 350, type: 'rollout-complete', pod: 'deployment/web', version: 'v1' },
      { at: 1000, type: 'rollout-started', pod: 'deployment/web', version: 'v2' },
      { at: 2900, type: 'exited', pod: 'web-v2-2', version: 'v2', detail: 'code 1' }
    ],
    failures: [{ at: 10, kind: 'reset', pod: 'web-v0-9' }, { at: 300, kind: 'reset', pod: 'web-v0-9' }, { at: 1400, kind: 'reset', pod: 'web-v0-9' }]
  }
  const file = htmlReport(jsonReport([check, failed], 'service', new Date(0)), 'service')
  t.same(lanesOf(check).map((l) => l.pod), ['web-abc', 'web-def', UNKNOWN_POD])
  t.same(lanesOf(failed).map((l) => l.pod), ['web-v1-1', 'web-v2-2', 'web-v0-9'], 'a pod known only from its drops still gets a lane')
  t.match(file, /<section class="run dropped" data-scenario="s" data-label="web">/, 'another target that dropped')
  t.match(file, /<section class="run bad" data-scenario="s" data-label="service">/, 'the service under test failed')
  t.match(file, /run failed: pod web-v2-2 exited before it was deleted/)
  t.match(file, /<text[^>]*>rollout to restart<\/text>/, 'a cluster rollout is named by what it rolls to')
  t.match(file, /rollout to v2: 1\.00 s to end of run/, 'a rollout that never completed lasts to the end of the run')
  t.match(file, /<rect class="terminating" x="[\d.]+" y="[\d.]+" width="[\d.]+"/, 'a pod still terminating at the end')
  t.match(file, /<rect class="in-endpoints"/)
  t.match(file, />exited \(code 1\)</)
  t.match(file, />2 dropped: 2 reset</, 'drops 290 ms apart are one cluster')
  t.match(file, />1 dropped: 1 reset</, 'and a second one 1.1 s later')
  t.match(file, />unknown pod<\/text><text class="lane-note"[^>]*>client cannot tell</)
  t.notMatch(file, /<pattern id="hatch"[\s\S]*<pattern id="hatch"/, 'shared patterns defined once on the page')
  t.notMatch(file, /(src|href)="https?:/, 'nothing loaded from elsewhere')
  t.notMatch(file, /<script/i, 'no script: the page works where scripts are blocked (CI artifact viewers)')
})
