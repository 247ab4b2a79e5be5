/**
 * The environment variables our manifests set so the plugin knows the pod's
 * termination budget. They carry the same numbers as the pod spec fields they
 * are named after; `fastify-zero-downtime lint` checks that they agree.
 */
export const ENV = {
  /** `spec.terminationGracePeriodSeconds` of the pod (Kubernetes default: 30). */
  gracePeriodSeconds: 'TERMINATION_GRACE_PERIOD_SECONDS',
  /** Seconds of the container's `lifecycle.preStop` sleep; 0 or unset: no preStop. */
  preStopSleepSeconds: 'PRESTOP_SLEEP_SECONDS'
} as const

/**
 * Reads a non-negative number of seconds from the environment.
 * Returns undefined when unset or empty; throws a TypeError naming the
 * variable when it is set to something that is not a number of seconds.
 */
export function readSeconds (env: NodeJS.ProcessEnv, name: string): number | undefined {
  const raw = env[name]
  if (raw === undefined || raw.trim() === '') return undefined
  const value = Number(raw)
  if (!Number.isFinite(value) || value < 0) {
    throw new TypeError(`environment variable ${name} must be a non-negative number of seconds, got ${JSON.stringify(raw)}`)
  }
  return value
}
