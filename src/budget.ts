/**
 * The termination timing budget, shared by the drain (which refuses to start
 * when it cannot fit) and the manifest linter (which flags pod specs where it
 * cannot fit). Kubernetes starts the grace countdown BEFORE the preStop hook,
 * so the preStop sleep is spent from the same budget as the in-app drain:
 *
 *   deletion ──preStop──▶ SIGTERM ──drain delay──▶ close listener ──longest request──▶
 *   HTTP drained ──cleanup──▶ exit ──margin──▶ SIGKILL (terminationGracePeriodSeconds)
 *
 * Every number derived from these (the HTTP deadline, when the drain ends at
 * the latest, the last-resort exit) is computed here and nowhere else.
 */
export interface TimingBudgetInput {
  /** `terminationGracePeriodSeconds`, in ms. */
  readonly gracePeriodMs: number
  /** preStop sleep, in ms (0: no preStop). */
  readonly preStopSleepMs: number
  /** In-app delay between SIGTERM and closing the listener, in ms. */
  readonly drainDelayMs: number
  /** The longest request the service must let finish, in ms. */
  readonly requestTimeoutMs: number
  /** Time allowed to close dependencies after HTTP drained, in ms. */
  readonly cleanupTimeoutMs: number
  /** Kept free before SIGKILL so the process exits on its own terms, in ms. */
  readonly marginMs: number
}

export interface TimingBudget {
  /** preStop + drain delay + request timeout + cleanup + margin. */
  readonly requiredMs: number
  readonly fits: boolean
  /**
   * Milliseconds after SIGTERM at which whatever HTTP work is left is cut, so
   * that cleanup and the margin still fit before SIGKILL.
   */
  readonly httpDeadlineMs: number
  /** Milliseconds after SIGTERM by which the drain has ended at the latest: the HTTP deadline plus cleanup. */
  readonly drainEndMs: number
  /**
   * Milliseconds after SIGTERM at which the process ends whatever the drain is
   * doing: the drain bounds HTTP and its cleanups, but not the app's own
   * onClose hooks; one that hangs must not hold the pod until SIGKILL.
   */
  readonly lastResortMs: number
  /** Human explanation when it does not fit, naming what to change. */
  readonly problem?: string
}

/**
 * Share of the margin left between the last-resort exit and SIGKILL: the
 * drain's own deadline already ends HTTP and cleanup a full margin before it.
 */
const LAST_RESORT_MARGIN_SHARE = 0.5

export function timingBudget (b: TimingBudgetInput): TimingBudget {
  const requiredMs = b.preStopSleepMs + b.drainDelayMs + b.requestTimeoutMs + b.cleanupTimeoutMs + b.marginMs
  const httpDeadlineMs = b.gracePeriodMs - b.preStopSleepMs - b.cleanupTimeoutMs - b.marginMs
  const fits = requiredMs <= b.gracePeriodMs
  const derived = {
    requiredMs,
    fits,
    httpDeadlineMs,
    drainEndMs: httpDeadlineMs + b.cleanupTimeoutMs,
    lastResortMs: b.gracePeriodMs - b.preStopSleepMs - b.marginMs * LAST_RESORT_MARGIN_SHARE
  }
  if (fits) return derived
  const s = (ms: number): string => `${ms / 1000}s`
  const problem =
    `timing budget does not fit the grace period: preStop ${s(b.preStopSleepMs)} + drain delay ${s(b.drainDelayMs)}` +
    ` + request timeout ${s(b.requestTimeoutMs)} + cleanup ${s(b.cleanupTimeoutMs)} + margin ${s(b.marginMs)}` +
    ` = ${s(requiredMs)} > terminationGracePeriodSeconds ${s(b.gracePeriodMs)}.` +
    ` Raise terminationGracePeriodSeconds (and TERMINATION_GRACE_PERIOD_SECONDS) to at least ${Math.ceil(requiredMs / 1000)},` +
    ' or lower the request timeout, the drain delay or the preStop sleep.'
  return { ...derived, problem }
}
