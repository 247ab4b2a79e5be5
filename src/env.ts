/**
 * The environment variables our manifests set so the plugin knows the pod's
 * termination budget. They carry the same numbers as the pod spec fields they
 * are named after; `fastify-zero-downtime lint` checks that they agree.
 */
import { secondsFromEnv } from './options.js'

export const ENV = {
  /** `spec.terminationGracePeriodSeconds` of the pod (Kubernetes default: 30). */
  gracePeriodSeconds: 'TERMINATION_GRACE_PERIOD_SECONDS',
  /** Seconds of the container's `lifecycle.preStop` sleep; 0 or unset: no preStop. */
  preStopSleepSeconds: 'PRESTOP_SLEEP_SECONDS'
} as const

/**
 * Reads a number of seconds from the environment, in milliseconds, with the
 * same bounds as the option of the same meaning. Returns undefined when unset
 * or empty; throws a TypeError naming the variable when it is set to anything
 * else than decimal seconds in range (0 only where `allowZero`).
 */
export function readSecondsAsMs (env: NodeJS.ProcessEnv, name: string, allowZero: boolean): number | undefined {
  const raw = env[name]
  if (raw === undefined || raw.trim() === '') return undefined
  return secondsFromEnv(raw, name, allowZero)
}
