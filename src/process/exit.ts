/**
 * The one place that ends the process, shared by `listen()` (its `exit`
 * option defaults to `processEnd.exit`) and the plugin's own SIGTERM owner
 * (signals.ts, whose `end` parameter defaults to `processEnd`): tests inject
 * another. Nothing else in the package exits.
 */
export interface ProcessEnd {
  /** Ends with an exit code: `listen()`, and a drain that was not clean. */
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

/** What the wait below needs of pino's default destination (sonic-boom). */
interface LogDestination {
  readonly _writing?: unknown
  once: (event: 'drain', listener: () => void) => unknown
  removeListener: (event: 'drain', listener: () => void) => unknown
}

/**
 * Resolves once the logger's destination has written what it was given, so
 * the end of the drain's timeline reaches the log however the process ends.
 * pino's default destination writes asynchronously and offers no wait that
 * works: `flush(cb)` calls back at once, and the `flushSync()` it runs on
 * 'exit' writes what is buffered while an earlier write may still be in
 * flight, so lines come out of order or, when the process dies by a signal
 * (no 'exit' event), not at all. Bounded by `maxWaitMs` for a destination
 * that never drains; destinations of other kinds (transports, a sync
 * destination) resolve at once.
 */
export async function logWritten (log: object, maxWaitMs = 1000): Promise<void> {
  const destination = pinoDestination(log)
  if (destination === undefined || destination._writing !== true) return
  await new Promise<void>((resolve) => {
    const done = (): void => {
      clearTimeout(timer)
      destination.removeListener('drain', done)
      resolve()
    }
    // Unref'ed: the write in flight holds the event loop by itself.
    const timer = setTimeout(done, maxWaitMs).unref()
    destination.once('drain', done)
  })
}

/** pino keeps its destination under a private `Symbol('pino.stream')`, inherited by child loggers. */
function pinoDestination (log: object): LogDestination | undefined {
  for (let o: object | null = log; o !== null; o = Object.getPrototypeOf(o) as object | null) {
    const key = Object.getOwnPropertySymbols(o).find((s) => s.description === 'pino.stream')
    if (key === undefined) continue
    const destination = (log as Record<symbol, unknown>)[key] as Partial<LogDestination> | undefined
    return typeof destination?.once === 'function' && typeof destination.removeListener === 'function' ? destination as LogDestination : undefined
  }
  return undefined
}
