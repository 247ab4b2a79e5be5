/** A Kubernetes object as parsed from YAML: plain JSON values. */
export type KubeObject = Record<string, unknown>

/** A field inside an object: `['spec', 'template', 'spec', 'containers', 0]`. */
export type FieldPath = ReadonlyArray<string | number>

export type Severity = 'error' | 'warning'

/** One object of the input and where it came from. */
export interface SourcedObject {
  readonly object: KubeObject
  /** The file the object was read from (`-` for stdin). */
  readonly file: string
  /** The kustomization directory that rendered it, when it came through one. */
  readonly via?: string
  /** 1-based line of a field in `file`, when the object was read as is. */
  readonly line?: (path: FieldPath) => number | undefined
}

/** Objects linted together: cross-object rules (PDB, HPA, Service) look inside one unit only. */
export interface LintUnit {
  /** What the user named: a file, a kustomization directory, `-`. */
  readonly source: string
  readonly objects: readonly SourcedObject[]
}

export interface RuleMeta {
  /** Stable id, used in output and in `--disable`. */
  readonly id: string
  readonly severity: Severity
  /** What goes wrong during a rollout, a drain or an eviction. */
  readonly why: string
  /** What to change. */
  readonly fix: string
}

export interface Finding {
  readonly rule: string
  readonly severity: Severity
  readonly file: string
  readonly line?: number
  readonly via?: string
  /** `Kind/name` (with `namespace/` in front when set). */
  readonly object: string
  /** Field path, e.g. `spec.template.spec.containers[0].readinessProbe`. */
  readonly path: string
  readonly message: string
  readonly why: string
  readonly fix: string
}

/** The service's own timing, in milliseconds; defaults are the plugin's. */
export interface LintOptions {
  /** Longest request the service lets finish during a drain (plugin default 10000). */
  readonly requestTimeoutMs: number
  /** Dependency check timeout behind the readiness probe (plugin default 1000). */
  readonly checkTimeoutMs: number
  /** Time to close dependencies after HTTP drained (plugin default 5000). */
  readonly cleanupTimeoutMs: number
  /** Kept free before SIGKILL (plugin default 2000). */
  readonly marginMs: number
  /** In-app drain delay when the pod has no preStop sleep (plugin default 5000). */
  readonly drainDelayMs: number
  /** Server keep-alive timeout (Fastify default 72000): proxies must close idle connections before it. */
  readonly keepAliveTimeoutMs: number
  /** Rule ids not to report. */
  readonly disable: readonly string[]
}
