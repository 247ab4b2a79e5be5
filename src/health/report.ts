/**
 * Probe answers in the `application/health+json` format of the IETF draft
 * "Health Check Response Format for HTTP APIs": a top-level `status`
 * (pass/warn/fail), and with `?verbose` a `checks` map keyed
 * `<component>:<measurement>` whose entries carry `componentType`,
 * `observedValue`/`observedUnit`, `status`, `time` and `output`.
 * Pure functions of the cached state: a probe never waits on a dependency.
 */
import type { LifecycleState } from '../lifecycle.js'
import type { CheckResult, HealthStatus, ResolvedCheck } from './types.js'

export const HEALTH_JSON = 'application/health+json'

export interface CheckEntry {
  componentType: string
  observedValue: number
  observedUnit: string
  status: HealthStatus
  time: string
  output?: string
}

export interface HealthBody {
  status: HealthStatus
  output?: string
  notes?: string[]
  checks?: Record<string, CheckEntry[]>
}

export interface ProbeAnswer {
  readonly statusCode: 200 | 503
  readonly body: HealthBody
}

/**
 * A measured process limit, reported next to the checks as a `system`
 * component. What readiness reads; load shedding (src/pressure) produces it.
 */
export interface LimitReading {
  readonly key: string
  readonly observedValue: number
  readonly observedUnit: string
  readonly status: HealthStatus
  readonly output?: string
}

export interface ProbeState {
  readonly lifecycle: LifecycleState
  readonly terminating: boolean
  readonly checks: readonly ResolvedCheck[]
  readonly results: readonly CheckResult[]
  /** Load-shedding limits; `status` is `warn` or `fail` while saturated (per `pressure.readiness`). */
  readonly pressure: readonly LimitReading[]
}

export interface ReportQuery {
  readonly verbose: boolean
  readonly exclude: ReadonlySet<string>
}

const RANK: Record<HealthStatus, number> = { pass: 0, warn: 1, fail: 2 }

function worst (a: HealthStatus, b: HealthStatus): HealthStatus {
  return RANK[b] > RANK[a] ? b : a
}

function entry (check: ResolvedCheck, result: CheckResult): CheckEntry {
  return {
    componentType: check.componentType,
    observedValue: result.latencyMs,
    observedUnit: 'ms',
    status: result.status,
    time: result.time,
    ...(result.output === undefined ? {} : { output: result.output })
  }
}

/** How much one check weighs on a probe: a non-critical failure only warns. */
function weigh (check: ResolvedCheck, result: CheckResult): HealthStatus {
  return result.status === 'fail' && !check.critical ? 'warn' : result.status
}

function answer (status: HealthStatus, problems: string[], verbose: boolean, checks: Record<string, CheckEntry[]>, notes: string[]): ProbeAnswer {
  const body: HealthBody = { status }
  if (problems.length > 0) body.output = problems.join('; ')
  if (verbose) {
    body.notes = notes
    body.checks = checks
  }
  return { statusCode: status === 'fail' ? 503 : 200, body }
}

function evaluate (state: ProbeState, query: ReportQuery, include: (check: ResolvedCheck) => boolean): { status: HealthStatus, problems: string[], checks: Record<string, CheckEntry[]> } {
  let status: HealthStatus = 'pass'
  const problems: string[] = []
  const checks: Record<string, CheckEntry[]> = {}
  state.checks.forEach((check, i) => {
    const result = state.results[i] as CheckResult
    if (!include(check) || query.exclude.has(check.name)) return
    // Per-check detail only for ?verbose: a probe every few seconds per pod
    // should cost what a bare route costs.
    if (query.verbose) checks[`${check.name}:responseTime`] = [entry(check, result)]
    const weight = weigh(check, result)
    status = worst(status, weight)
    if (weight !== 'pass') problems.push(`${check.name}: ${result.output ?? result.status}`)
  })
  return { status, problems, checks }
}

/** Readiness: the lifecycle is `ready` and every critical check passes. */
export function readiness (state: ProbeState, query: ReportQuery): ProbeAnswer {
  const { status, problems, checks } = evaluate(state, query, () => true)
  let overall = status
  if (state.lifecycle !== 'ready') {
    overall = 'fail'
    problems.unshift(state.lifecycle === 'starting' ? 'not started yet' : `${state.lifecycle}: taking no new traffic`)
  }
  if (!query.exclude.has('pressure')) {
    for (const m of state.pressure) {
      if (query.verbose) checks[m.key] = [{ componentType: 'system', observedValue: m.observedValue, observedUnit: m.observedUnit, status: m.status, time: new Date().toISOString(), ...(m.output === undefined ? {} : { output: m.output }) }]
      overall = worst(overall, m.status)
      if (m.status !== 'pass') problems.push(`under pressure: ${m.key} ${m.observedValue} ${m.observedUnit}${m.output === undefined ? '' : ` (${m.output})`}`)
    }
  }
  return answer(overall, problems, query.verbose, checks, [`lifecycle: ${state.lifecycle}`])
}

/**
 * Liveness: only process health and checks explicitly opted in. It never
 * fails from load, and stays `pass` once the pod is terminating: a liveness
 * failure then would make the kubelet kill a pod that is draining correctly.
 */
export function liveness (state: ProbeState, query: ReportQuery): ProbeAnswer {
  const { status, problems, checks } = evaluate(state, query, (check) => check.liveness)
  if (state.terminating) return answer('pass', [], query.verbose, checks, [`lifecycle: ${state.lifecycle}`])
  return answer(status, problems, query.verbose, checks, [`lifecycle: ${state.lifecycle}`])
}

/** Startup: `fail` until the service has started, then the same as liveness. */
export function startup (state: ProbeState, query: ReportQuery): ProbeAnswer {
  if (state.lifecycle === 'starting') return answer('fail', ['not started yet'], query.verbose, {}, ['lifecycle: starting'])
  return liveness(state, query)
}

/** One check by name, like the Kubernetes API server's `/readyz/<check>`; undefined if unknown. */
export function single (state: ProbeState, name: string, query: ReportQuery): ProbeAnswer | undefined {
  const i = state.checks.findIndex((c) => c.name === name)
  if (i === -1) return undefined
  const check = state.checks[i] as ResolvedCheck
  const result = state.results[i] as CheckResult
  const problems = result.status === 'pass' ? [] : [`${check.name}: ${result.output ?? result.status}`]
  return answer(result.status, problems, query.verbose, { [`${check.name}:responseTime`]: [entry(check, result)] }, [`critical: ${String(check.critical)}`])
}
