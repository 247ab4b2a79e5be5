import { asNumber, asString, get, isRecord, kindOf, nameOf, namespaceOf, records, stringMap } from './object.js'
import type { FieldPath, KubeObject, LintOptions, LintUnit, RuleMeta, SourcedObject } from './types.js'

/** A container of a pod template, with its path inside the workload object. */
export interface ContainerRef {
  readonly container: KubeObject
  readonly name: string
  readonly path: FieldPath
}

/** A Deployment and what the rules need to know about it. */
export interface Workload {
  readonly source: SourcedObject
  readonly podSpec: KubeObject
  readonly podSpecPath: FieldPath
  readonly templateLabels: Record<string, string>
  /** Containers that serve traffic: those with ports, else all of them. */
  readonly serving: readonly ContainerRef[]
  readonly containers: readonly ContainerRef[]
  /** The HorizontalPodAutoscaler scaling it, if any in the unit. */
  readonly hpa?: SourcedObject
  /** Fewest replicas it runs with: the autoscaler's minReplicas, else spec.replicas (default 1). */
  readonly minReplicas: number
}

export interface LintContext {
  readonly unit: LintUnit
  readonly options: LintOptions
  readonly workloads: readonly Workload[]
  ofKind (kind: string): SourcedObject[]
}

export type Report = (target: SourcedObject, path: FieldPath, message: string) => void

export interface Rule {
  readonly meta: RuleMeta
  check (ctx: LintContext, report: Report): void
}

function sameNamespace (a: SourcedObject, b: SourcedObject): boolean {
  return namespaceOf(a) === namespaceOf(b)
}

function workload (source: SourcedObject, hpas: readonly SourcedObject[]): Workload | undefined {
  const podSpecPath = ['spec', 'template', 'spec']
  const podSpec = get(source.object, podSpecPath)
  if (!isRecord(podSpec)) return undefined
  const containers = records(podSpec.containers).map((container, i): ContainerRef => ({
    container,
    name: asString(container.name) ?? `#${i}`,
    path: [...podSpecPath, 'containers', i]
  }))
  const withPorts = containers.filter((c) => records(c.container.ports).length > 0)
  const hpa = hpas.find((h) =>
    sameNamespace(h, source) &&
    asString(get(h.object, ['spec', 'scaleTargetRef', 'kind'])) === kindOf(source) &&
    asString(get(h.object, ['spec', 'scaleTargetRef', 'name'])) === nameOf(source))
  const minReplicas = hpa === undefined
    ? asNumber(get(source.object, ['spec', 'replicas'])) ?? 1
    : asNumber(get(hpa.object, ['spec', 'minReplicas'])) ?? 1
  return {
    source,
    podSpec,
    podSpecPath,
    templateLabels: stringMap(get(source.object, ['spec', 'template', 'metadata', 'labels'])),
    serving: withPorts.length > 0 ? withPorts : containers,
    containers,
    ...(hpa === undefined ? {} : { hpa }),
    minReplicas
  }
}

export function createContext (unit: LintUnit, options: LintOptions): LintContext {
  const ofKind = (kind: string): SourcedObject[] => unit.objects.filter((o) => kindOf(o) === kind)
  const hpas = ofKind('HorizontalPodAutoscaler')
  const workloads = ofKind('Deployment').flatMap((d) => workload(d, hpas) ?? [])
  return { unit, options, workloads, ofKind }
}

/** Literal `env` values of a container (valueFrom entries are not known statically). */
export function envValues (container: KubeObject): Map<string, { value: string, index: number }> {
  const out = new Map<string, { value: string, index: number }>()
  records(container.env).forEach((e, index) => {
    const name = asString(e.name)
    const value = asString(e.value)
    if (name !== undefined && value !== undefined) out.set(name, { value, index })
  })
  return out
}

export interface PreStopSleep {
  readonly seconds: number
  readonly style: 'native' | 'exec'
}

/**
 * The delay a container's preStop hook gives, when it is a sleep: the native
 * `sleep` action or an `exec` whose command runs `sleep N`.
 */
export function preStopSleep (container: KubeObject): PreStopSleep | undefined {
  const native = asNumber(get(container, ['lifecycle', 'preStop', 'sleep', 'seconds']))
  if (native !== undefined) return { seconds: native, style: 'native' }
  const command = get(container, ['lifecycle', 'preStop', 'exec', 'command'])
  if (!Array.isArray(command)) return undefined
  const m = /\bsleep\s+(\d+(?:\.\d+)?)/.exec(command.map(String).join(' '))
  return m === null ? undefined : { seconds: Number(m[1]), style: 'exec' }
}

/** `terminationGracePeriodSeconds` of the pod (Kubernetes default 30). */
export function gracePeriodSeconds (w: Workload): number {
  return asNumber(w.podSpec.terminationGracePeriodSeconds) ?? 30
}

/** Calls `fn` for each serving container (or every container) of each Deployment of the unit. */
export function eachContainer (ctx: LintContext, fn: (w: Workload, c: ContainerRef) => void, which: 'serving' | 'containers' = 'serving'): void {
  for (const w of ctx.workloads) for (const c of w[which]) fn(w, c)
}
