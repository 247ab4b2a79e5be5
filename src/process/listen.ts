/**
 * `listen()`: starts the server and claims the app's process owner
 * (owner.ts), which from then on turns every termination signal and
 * uncaught error into the drain and exits with 0 after a clean drain, 1
 * otherwise. Why it is not built on close-with-grace: see owner.ts.
 */
import type { FastifyInstance, FastifyListenOptions } from 'fastify'
import { errorCodes } from '../errors.js'
import { callback, invalid } from '../options.js'
import { processEnd } from './exit.js'
import { processOwnerOf } from './owner.js'

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

export async function listen (app: FastifyInstance, options: ListenOptions = {}): Promise<ListenHandle> {
  const { exit = processEnd.exit, ...listenOptions } = options
  callback(exit, 'exit', 'a function (code) => void', invalid)
  // Loads the plugins without starting (a timing budget that cannot fit is
  // refused here); the startup checks run in app.ready() below.
  await app.after()
  const owner = processOwnerOf(app)
  if (owner === undefined) {
    throw new errorCodes.FST_ZD_PLUGIN_REQUIRED('listen() needs the plugin: await app.register(zeroDowntime) on the root instance first')
  }
  // Claimed before the start: a SIGTERM while the startup checks run ends
  // the start here (the drain stops the checks; the server never listens)
  // instead of killing the process with no cleanup.
  const claim = owner.claim(exit)
  let address: string
  try {
    await app.ready()
    // Stopped during the start: the owner ends the process once the drain
    // is over, and there is no address to give.
    if (claim.stopping) return await new Promise<never>(() => {})
    const listening = app.listen(listenOptions)
    claim.starting(listening)
    address = await listening
  } catch (err) {
    claim.release()
    throw err
  }
  return {
    address,
    close () { claim.close() }
  }
}
