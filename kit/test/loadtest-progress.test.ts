// Live progress while `rollout` runs: a rewritten status line on a terminal,
// one plain line per run everywhere else. In-process, with injected streams.
import t from 'tap'
import { progressLine, progressPrinter, runLine } from '../src/report/progress.js'
import type { Progress, RunResult } from '../src/run/result.js'
import { io } from './helpers/loadtest.js'

const progress: Progress = {
  scenario: 'hot-loop',
  label: 'service',
  phase: 'rollout to v2',
  pods: [
    { name: 'web-v1-1', version: 'v1', ready: true, terminating: true },
    { name: 'web-v1-2', version: 'v1', ready: true, terminating: false },
    { name: 'web-v2-3', version: 'v2', ready: false, terminating: false }
  ],
  requestsPerSecond: 5604.4,
  sent: 12345,
  dropped: 2
}

const result = (over: Partial<RunResult> = {}): RunResult => ({
  scenario: 'hot-loop', description: 'd', label: 'baseline', command: ['node', 'x'], proxy: 'l4', durationMs: 14_230,
  counts: { sent: 68059, ok: 68003, statuses: {}, failed: { reset: 56 }, retried: 0 }, dropped: 56, unsettled: 0, latencyMs: { p50: 1, p99: 2 },
  failures: [], events: [], throughput: [], drops: [], balancer: { connections: 0, noEndpoint: 0, upstreamErrors: 0 }, pods: [], ...over
})

// Anything but a newline: carriage returns, escape sequences, tabs, C1 controls.
const CONTROL = /(?!\n)\p{Cc}/u

t.test('the status line names scenario, target, phase, pods, rate, requests and drops so far', async (t) => {
  t.equal(progressLine(progress), '[hot-loop · service] rollout to v2 · pods 1 ready (v1:1 v2:1, 1 terminating) · 5604 req/s · sent 12345 · dropped 2')
  t.equal(progressLine({ ...progress, pods: [progress.pods[1]!] }), '[hot-loop · service] rollout to v2 · pods 1 ready (v1:1) · 5604 req/s · sent 12345 · dropped 2', 'no terminating count when none terminates')
})

t.test('on a terminal: the status line is rewritten in place, cut to the width, then the run line replaces it', async (t) => {
  const o = io(true)
  const printer = progressPrinter(o)
  printer.update(progress)
  printer.update({ ...progress, sent: 20000 })
  t.equal(o.err(), `\r\x1b[K${progressLine(progress)}\r\x1b[K${progressLine({ ...progress, sent: 20000 })}`)
  printer.done(result())
  // eslint-disable-next-line no-control-regex -- the terminal's erase-line sequence is what is tested
  t.match(o.err(), /\r\x1b\[Khot-loop \/ baseline: sent 68059, dropped 56 in 14\.2 s\n$/)
  t.equal(o.out(), '', 'progress goes to stderr only')

  const narrow = io(true)
  Object.assign(narrow.stderr, { columns: 40 })
  progressPrinter(narrow).update(progress)
  t.equal(narrow.err(), `\r\x1b[K${progressLine(progress).slice(0, 39)}`, 'never wider than the terminal: a wrapped line cannot be rewritten')
})

t.test('not a terminal: one plain line per run, no control characters', async (t) => {
  const o = io(false)
  const printer = progressPrinter(o)
  printer.update(progress)
  t.equal(o.err(), '', 'no status line in a log')
  printer.done(result())
  printer.done(result({ label: 'service', dropped: 0, error: 'pod web-v1-2 exited before it was deleted; its last output:\n\x1b[31mcrashing\x1b[0m on purpose' }))
  const lines = o.err().split('\n')
  t.same(lines, [
    'hot-loop / baseline: sent 68059, dropped 56 in 14.2 s',
    'hot-loop / service: sent 68059, dropped 0 in 14.2 s (run failed: pod web-v1-2 exited before it was deleted; its last output:)',
    ''
  ])
  t.notMatch(o.err(), CONTROL)
  t.equal(runLine(result({ error: 'bad\tthing\x1b[0m' })), 'hot-loop / baseline: sent 68059, dropped 56 in 14.2 s (run failed: badthing[0m)', 'control characters stripped from an error')
})
