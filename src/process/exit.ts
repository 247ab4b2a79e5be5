/**
 * The one place that ends the process, used only by the process owner
 * (owner.ts): its `end` parameter defaults to `processEnd`, and `listen()`'s
 * `exit` option (default `processEnd.exit`) replaces the exit once claimed.
 * Tests inject others. Nothing else in the package exits.
 */
export interface ProcessEnd {
  /** Ends with an exit code: under `listen()`, and after a drain that was not clean. */
  readonly exit: (code: number) => void
  /**
   * Ends by the signal itself, sent again once the caller has removed its own
   * listeners: the exit status is the signal's, as without any handler, and
   * whatever still holds the event loop cannot keep the process alive.
   */
  readonly raise: (signal: NodeJS.Signals) => void
}

export const processEnd: ProcessEnd = Object.freeze({
  exit: (code: number) => { process.exit(code) },
  raise: (signal: NodeJS.Signals) => { process.kill(process.pid, signal) }
})
