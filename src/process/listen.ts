/**
 * The one place that owns the process: starts the server, turns SIGTERM and
 * SIGINT (via close-with-grace) into the drain, and exits — 0 after a clean
 * drain, 1 after a forced one or an error. The plugin itself never exits; its
 * own SIGTERM owner (signals.ts) sees these listeners and stands aside.
 *
 * close-with-grace calls `process.exit` itself in four places (after the
 * callback settles, on its own timeout, after a second signal, after a second
 * error). Exit stays here instead: its timeout is off, our callback never
 * settles (it exits through `exit` first), and the second-signal/-error
 * handlers exit through `exit` before close-with-grace would.
 */
import closeWithGrace from 'close-with-grace'
import type { FastifyInstance, FastifyListenOptions } from 'fastify'
import { errorCodes } from '../errors.js'
import { loggableError } from '../scrub.js'
import { callback, invalid } from '../options.js'
import { drainControllerOf } from '../plugin.js'
import { logWritten } from '../log-written.js'
import { processEnd } from './exit.js'
import { runOptionsFor } from './signals.js'

export interface ListenOptions extends Omit<FastifyListenOptions, 'signal'> {
  /** Ends the process; injectable for tests. Default `process.exit`. */
  exit?: (code: number) => void
}

export interface ListenHandle {
  /** The address the server listens on, as `app.listen()` returns it. */
  readonly address: string
  /** Starts the same drain-then-exit sequence as SIGTERM. */
  close (): void
}

const never = async (): Promise<never> => await new Promise<never>(() => {})

export async function listen (app: FastifyInstance, options: ListenOptions = {}): Promise<ListenHandle> {
  const { exit = processEnd.exit, ...listenOptions } = options
  callback(exit, 'exit', 'a function (code) => void', invalid)
  let exited = false
  const end = (code: number): void => {
    if (exited) return
    exited = true
    app.log.info({ drain: 'exit', exitCode: code }, `exiting with code ${code}`)
    // The end of the timeline written, in order, before the process ends (see logWritten).
    void logWritten(app.log).then(() => { exit(code) })
  }
  // Loads the plugins without starting (a timing budget that cannot fit is
  // refused here); the startup checks run in app.ready() below.
  await app.after()
  // What users have (app.zeroDowntime) runs the drain; only a second signal
  // needs what they do not: cutting the connections left.
  const cutter = drainControllerOf(app)
  if (cutter === undefined) {
    throw new errorCodes.FST_ZD_PLUGIN_REQUIRED('listen() needs the plugin: await app.register(zeroDowntime) on the root instance first (listen and the plugin from the same build: both imported, or both required)')
  }
  const handle = app.zeroDowntime
  let listening: Promise<string> | undefined
  let stopping = false

  // Installed before the start: a SIGTERM while the startup checks run ends
  // the start here (the drain stops the checks; the server never listens)
  // instead of killing the process with no cleanup.
  const grace = closeWithGrace({
    delay: false,
    logger: false,
    // An empty event loop means nobody is listening any more: nothing to drain,
    // and Node exits 0 by itself.
    skip: ['beforeExit'],
    onSecondSignal (signal) {
      cutter.abort(`second ${signal}`)
      end(1)
    },
    onSecondError (err) {
      app.log.error({ error: loggableError(err) }, 'second uncaught error while draining')
      cutter.abort('second uncaught error')
      end(1)
    }
  }, async ({ signal, err }) => {
    stopping = true
    // A listen under way is only a bind away: the drain then closes that listener.
    await Promise.allSettled([listening])
    if (err !== undefined) app.log.error({ error: loggableError(err) }, 'uncaught error: draining without delay')
    // Last resort, ref'ed on purpose: the drain bounds HTTP and its cleanups,
    // but not the app's own onClose hooks.
    const guardMs = handle.config.drain.budget.lastResortMs
    const guard = setTimeout(() => {
      app.log.error({ drain: 'exit' }, `drain still running ${guardMs} ms after it started: exiting before SIGKILL`)
      end(1)
    }, guardMs)
    const reason = signal ?? (err !== undefined ? 'uncaught error' : 'close() called')
    const report = await handle.drain(reason, err !== undefined ? { delayMs: 0 } : runOptionsFor(signal))
    clearTimeout(guard)
    end(err === undefined && report.clean ? 0 : 1)
    // Never settle: close-with-grace would call process.exit itself.
    return await never()
  })

  let address: string
  try {
    await app.ready()
    // Stopped during the start: the drain is running and will exit.
    if (stopping) return await never()
    address = await (listening = app.listen(listenOptions))
  } catch (err) {
    grace.uninstall()
    throw err
  }
  return {
    address,
    close () { grace.close() }
  }
}
