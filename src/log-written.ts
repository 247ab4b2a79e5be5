/**
 * Waiting for the log to be written before the process ends: shared by the
 * drain (whose timeline must reach the log however the process ends) and the
 * process owner (which ends it).
 */

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
