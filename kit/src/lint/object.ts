import type { FieldPath, KubeObject, SourcedObject } from './types.js'

/** Read-only navigation in parsed YAML, where every level may be missing or of the wrong type. */
export function get (value: unknown, path: FieldPath): unknown {
  let current = value
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined
    current = (current as Record<string | number, unknown>)[key]
  }
  return current
}

export function isRecord (value: unknown): value is KubeObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}

export function records (value: unknown): KubeObject[] {
  return Array.isArray(value) ? value.filter(isRecord) : []
}

export function asString (value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined
}

export function asNumber (value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined
}

export function stringMap (value: unknown): Record<string, string> {
  const out: Record<string, string> = {}
  if (isRecord(value)) {
    for (const [k, v] of Object.entries(value)) if (typeof v === 'string') out[k] = v
  }
  return out
}

export function kindOf (o: SourcedObject): string {
  return asString(o.object.kind) ?? ''
}

export function nameOf (o: SourcedObject): string {
  return asString(get(o.object, ['metadata', 'name'])) ?? ''
}

export function namespaceOf (o: SourcedObject): string | undefined {
  return asString(get(o.object, ['metadata', 'namespace']))
}

/** `Kind/name`, with the namespace in front when the object names one. */
export function objectRef (o: SourcedObject): string {
  const ns = namespaceOf(o)
  return `${ns === undefined ? '' : `${ns}/`}${kindOf(o)}/${nameOf(o)}`
}

/** `spec.containers[0].name` */
export function formatPath (path: FieldPath): string {
  let out = ''
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`
    else if (!/^[A-Za-z_][\w-]*$/.test(key)) out += `[${JSON.stringify(key)}]`
    else out += out === '' ? key : `.${key}`
  }
  return out
}

/** True when every label of the selector is on the pod (matchExpressions are not evaluated). */
export function selects (selector: Record<string, string>, labels: Record<string, string>): boolean {
  const entries = Object.entries(selector)
  return entries.length > 0 && entries.every(([k, v]) => labels[k] === v)
}

/**
 * Resolves maxUnavailable (int or percent) against a replica count the way the
 * Deployment controller does: a percentage rounds down.
 */
export function maxUnavailableCount (value: unknown, replicas: number): number | undefined {
  if (typeof value === 'number') return value
  const m = typeof value === 'string' ? /^(\d+)%$/.exec(value) : null
  return m === null ? undefined : Math.floor((Number(m[1]) * replicas) / 100)
}

/** Go / Istio / Gateway API durations: `15s`, `1m30s`, `500ms`, `1h`. */
export function durationMs (value: unknown): number | undefined {
  if (typeof value !== 'string' || !/^(\d+(\.\d+)?(ms|s|m|h))+$/.test(value)) return undefined
  const unit: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }
  let total = 0
  for (const m of value.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)) total += Number(m[1]) * (unit[m[2] as string] as number)
  return total
}
