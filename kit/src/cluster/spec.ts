/**
 * What the simulated cluster does, resolved once into a frozen config. The
 * defaults are the reference manifest's (k8s/): 3 replicas, maxSurge 1,
 * maxUnavailable 0, preStop sleep 5 s, terminationGracePeriodSeconds 30. Only
 * the readiness period (and minReadySeconds) are shorter so a run stays quick.
 */
import type { Protocol } from '../network/protocol.js'

export interface ReadinessProbeSpec {
  readonly path: string
  readonly periodMs: number
  readonly timeoutMs: number
  readonly failureThreshold: number
  readonly successThreshold: number
}

export interface PodSpec {
  /** argv of the container's command; `node` runs the current Node.js binary. */
  readonly command: readonly string[]
  readonly cwd: string
  /** Extra environment for every replica. */
  readonly env: Readonly<Record<string, string>>
  /** `lifecycle.preStop.sleep.seconds`, in ms; 0: no preStop hook. */
  readonly preStopSleepMs: number
  /** `terminationGracePeriodSeconds`, in ms, counted from deletion. */
  readonly gracePeriodMs: number
  readonly readiness: ReadinessProbeSpec
  /** What the replicas speak: `h1` (HTTP/1.1) or `h2` (h2c with prior knowledge, probes included). */
  readonly protocol?: Protocol
}

export interface StrategySpec {
  readonly replicas: number
  /** Extra pods allowed above `replicas` during a rollout (a count or "25%"). */
  readonly maxSurge: number | string
  /** Pods allowed below `replicas` during a rollout (a count or "25%"). */
  readonly maxUnavailable: number | string
  readonly minReadyMs: number
}

/** l4: kube-proxy-like; l7: HAProxy; nginx: nginx set up like ingress-nginx. */
export type ProxyMode = 'l4' | 'l7' | 'nginx'

export interface ClusterSpec {
  readonly pod: PodSpec
  readonly strategy: StrategySpec
  /** Time for an endpoint change to reach the balancer (kube-proxy sync, ingress reload). */
  readonly propagationMs: number
  /** l4: kube-proxy-like connection pinning; l7: a real HAProxy with upstream keep-alive. */
  readonly proxy: ProxyMode
}

/**
 * The manifest also sets minReadySeconds: 5; the simulation defaults to 0 so
 * the main job stays a few minutes (--min-ready-seconds 5 to match it).
 */
export const DEFAULT_STRATEGY: StrategySpec = Object.freeze({ replicas: 3, maxSurge: 1, maxUnavailable: 0, minReadyMs: 0 })

export const DEFAULT_READINESS: ReadinessProbeSpec = Object.freeze({
  path: '/ready',
  // The reference manifest probes every 2 s; 1 s keeps a local rollout short
  // without changing what can go wrong. The rest is the manifest's.
  periodMs: 1000,
  timeoutMs: 2000,
  failureThreshold: 2,
  successThreshold: 1
})

export const DEFAULT_POD = Object.freeze({ preStopSleepMs: 5000, gracePeriodMs: 30_000 })

export const DEFAULT_PROPAGATION_MS = 1500

/**
 * Resolves maxSurge / maxUnavailable the way the Deployment controller does:
 * percentages of replicas, surge rounded up, unavailability rounded down, and
 * both zero is turned into a surge of 1 (the API server refuses 0/0).
 */
export function resolveStrategyCounts (s: StrategySpec): { surge: number, unavailable: number } {
  const count = (value: number | string, roundUp: boolean): number => {
    if (typeof value === 'number') return value
    const pct = Number(value.slice(0, -1)) * s.replicas / 100
    return roundUp ? Math.ceil(pct) : Math.floor(pct)
  }
  const surge = count(s.maxSurge, true)
  const unavailable = count(s.maxUnavailable, false)
  return surge === 0 && unavailable === 0 ? { surge: 1, unavailable: 0 } : { surge, unavailable }
}

/** Parses "3" or "25%" into what StrategySpec accepts; throws on anything else. */
export function parseIntOrPercent (name: string, raw: string): number | string {
  if (/^\d+%$/.test(raw)) return raw
  if (/^\d+$/.test(raw)) return Number(raw)
  throw new TypeError(`${name} must be a non-negative integer or a percentage like 25%, got ${JSON.stringify(raw)}`)
}

/**
 * Splits a command line into argv without a shell: a shell as PID 1 would
 * swallow SIGTERM, which is exactly what the simulation must not hide.
 * Double and single quotes group words.
 */
export function parseCommand (line: string): string[] {
  const argv: string[] = []
  for (const m of line.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)) argv.push(m[1] ?? m[2] ?? m[3] as string)
  if (argv.length === 0) throw new TypeError('the service command is empty')
  return argv
}
