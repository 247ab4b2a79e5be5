/** The status vocabulary of the IETF draft "Health Check Response Format for HTTP APIs". */
export type HealthStatus = 'pass' | 'warn' | 'fail'

/** What a check function receives on each run. */
export interface CheckContext {
  /** Aborted when the run times out or the plugin closes, so a check can give up its I/O. */
  readonly signal: AbortSignal
  /** This check's timeout, for clients that take their own (e.g. pg `query_timeout`). */
  readonly timeoutMs: number
}

/**
 * What a check may resolve to. `undefined`/`true` (or nothing at all) passes;
 * `false` fails; an object chooses the status and may explain it. Anything else
 * is treated as a broken check and fails, so a typo cannot pass silently.
 */
export type CheckOutcome = undefined | boolean | {
  readonly status: HealthStatus
  readonly output?: string
}

/** A dependency check: an async (or sync) function that throws, rejects or returns `false` on failure. */
export type CheckFunction = (context: CheckContext) => CheckOutcome | void | Promise<CheckOutcome | void>

/** A check with its settings; every field but `check` is optional. */
export interface CheckSpec {
  readonly check: CheckFunction
  /** Critical (default): a failure turns readiness 503. Non-critical: reported as `warn`, readiness stays 200. */
  readonly critical?: boolean
  /**
   * Also count this check for liveness (default false). Liveness failing makes
   * the kubelet RESTART the container, and a dependency blip would then restart
   * every pod at once: opt in only for checks of this process's own health.
   */
  readonly liveness?: boolean
  readonly timeoutMs?: number
  readonly intervalMs?: number
  /** `componentType` in the health+json output, e.g. `datastore`, `component`, `system`. */
  readonly componentType?: string
}

/** A check named in an array form of the `checks` option. */
export interface NamedCheckSpec extends CheckSpec {
  readonly name: string
}

/** A check as resolved once at registration. */
export interface ResolvedCheck {
  readonly name: string
  readonly check: CheckFunction
  readonly critical: boolean
  readonly liveness: boolean
  readonly timeoutMs: number
  readonly intervalMs: number
  readonly componentType: string
}

/** The latest result of one check, as cached by the runner. */
export interface CheckResult {
  readonly name: string
  /** `pass`/`warn`/`fail` of the check itself (before criticality is applied). */
  readonly status: HealthStatus
  /** Milliseconds the last run took (the timeout when it timed out; while a timed-out call is still running, how long it has been). */
  readonly latencyMs: number
  /** ISO 8601 time of the last result. */
  readonly time: string
  /** Why it is not `pass`, with credentials and connection strings removed. */
  readonly output?: string
  /** True until the first run has finished: counted as failing for readiness. */
  readonly pending: boolean
}
