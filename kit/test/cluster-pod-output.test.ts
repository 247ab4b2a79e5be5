// A pod's drain report is read from its stdout line by line, whatever the
// chunks: a line longer than any report (dropped, not buffered) and a
// truncated report line before the real one change nothing.
import t from 'tap'
import { ClusterEventLog } from '../src/cluster/events.js'
import { stoppedReport } from '../src/cluster/drain-report.js'
import { Pod } from '../src/cluster/pod.js'
import { DEFAULT_POD } from '../src/cluster/spec.js'
import { LOOPBACK_NETWORK } from '../src/network/loopback.js'

const REPORT = {
  level: 30,
  drain: 'stopped',
  connections: { retired: 3, closedByClient: 1, idleClosed: 2, stalledClosed: 0, forced: 0 },
  http2: { sessions: 0, streams: 0, streamsServed: 0, goaways: 0, idleClosed: 0, forced: 0 },
  cut: [],
  msg: 'drain finished clean'
}

t.test('a truncated stopped line is no report', async (t) => {
  t.equal(stoppedReport('{"level":30,"drain":"stopped","connections":{"retired":3,'), undefined)
})

t.test('the drain report after a 2 MiB line and a truncated report line is read', async (t) => {
  // Written in pieces, so the long line reaches the kit in many chunks with no newline in them.
  const script = `
    const piece = 'x'.repeat(64 * 1024)
    for (let i = 0; i < 32; i++) process.stdout.write(piece)
    process.stdout.write('\\n{"drain":"stopped","connections":{"retired":\\n')
    process.stdout.write(${JSON.stringify(JSON.stringify(REPORT))} + '\\n')
  `
  const timeline = new ClusterEventLog()
  const pod = new Pod('talkative', 'v1', {
    ...DEFAULT_POD,
    command: ['node', '-e', script],
    cwd: process.cwd(),
    env: {},
    readiness: { path: '/ready', periodMs: 1000, timeoutMs: 500, failureThreshold: 1, successThreshold: 1 }
  }, LOOPBACK_NETWORK.place('talkative'), timeline, () => {})
  await pod.done
  t.same(pod.drainReport, { endings: REPORT.connections, cut: 0 })
  t.match(pod.logTail, /"drain finished clean"}$/, 'the log tail ends with the last line')
})
