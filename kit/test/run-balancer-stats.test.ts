// A run whose balancer cannot give its counters at the end still reports
// every request and the run's other failure, says the counters were
// unreadable, and shows no made-up counters.
import t from 'tap'
import { DEFAULT_POD, parseCommand, type ClusterSpec } from '../src/cluster/spec.js'
import { selectScenarios } from '../src/load/scenarios.js'
import type { Balancer } from '../src/network/balancer.js'
import { L4Balancer } from '../src/network/l4-balancer.js'
import { jsonReport } from '../src/report/json.js'
import { runScenario } from '../src/run/measured-run.js'

t.test('balancer counters unreadable: said in the error, no balancer counters in the result', async (t) => {
  const cluster: ClusterSpec = {
    proxy: 'l4',
    propagationMs: 100,
    strategy: { replicas: 1, maxSurge: 1, maxUnavailable: 0, minReadyMs: 0 },
    // A replica that cannot start: the run fails before any load, then reads the counters.
    pod: { ...DEFAULT_POD, preStopSleepMs: 0, gracePeriodMs: 800, command: parseCommand('/nonexistent/binary'), cwd: process.cwd(), env: {}, readiness: { path: '/ready', periodMs: 100, timeoutMs: 500, failureThreshold: 1, successThreshold: 1 } }
  }
  let closed = false
  const r = await runScenario({
    scenario: selectScenarios(['hot-loop'])[0]!, label: 'service', cluster, rollouts: 1, requestTimeoutMs: 2000, scale: 0.05, steadyMs: 100,
    balancer: async () => {
      const lb = await L4Balancer.listen()
      const broken: Balancer = {
        port: lb.port,
        endpointErrors: lb.endpointErrors,
        setEndpoints: (endpoints) => lb.setEndpoints(endpoints),
        podFor: (port) => lb.podFor(port),
        stats: async () => { throw new Error('stats socket gone') },
        close: async () => { closed = true; await lb.close() }
      }
      return broken
    }
  })
  t.match(r.error, /ENOENT.*; balancer counters unreadable: stats socket gone$/s, 'both failures, in order')
  t.notOk('balancer' in r, 'no counters rather than zeros')
  t.equal(r.counts.sent, 0)
  t.ok(closed, 'the balancer is closed all the same')
  t.equal(jsonReport([r], 'service').ok, false, 'a failed run')
})
