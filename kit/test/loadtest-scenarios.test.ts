// The scenario table: names are unique, the no-preStop ones (h1 and h2) set
// preStop 0 and nothing else does, and each h2 scenario says so (rollout
// --protocol h2 picks its default scenarios by that field).
import t from 'tap'
import { SCENARIOS, selectScenarios } from '../src/load/scenarios.js'

t.test('names are unique and selectable', async (t) => {
  const names = SCENARIOS.map((s) => s.name)
  t.equal(new Set(names).size, names.length)
  t.same(selectScenarios(names).map((s) => s.name), names)
  t.throws(() => selectScenarios(['grpc', 'nope']), /unknown scenario nope; choose from .*grpc-no-prestop/)
})

t.test('preStop 0 exactly for the no-prestop scenarios, h1 and h2', async (t) => {
  t.same(SCENARIOS.filter((s) => s.preStopSleepMs !== undefined).map((s) => [s.name, s.preStopSleepMs, s.protocol ?? 'h1']),
    [['grpc-no-prestop', 0, 'h2'], ['no-prestop', 0, 'h1']])
})

t.test('the h2 scenarios are the gRPC-style ones', async (t) => {
  t.same(SCENARIOS.filter((s) => s.protocol === 'h2').map((s) => s.name), ['grpc', 'grpc-slow', 'grpc-no-prestop'])
})
