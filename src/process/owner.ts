/**
 * The one owner of the process, whichever way the service is started. The
 * plugin creates one per app at registration; it turns a termination signal
 * into the drain, guards the drain's end before SIGKILL, waits for the log to
 * be written, and ends the process through `exit.ts`, the only place that
 * can. Who ends the process, and how:
 *
 * - `listen()` claims the owner (`claim`): from then on every termination
 *   signal (SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR2) and every uncaught
 *   error drains, whoever else listens, and the process ends with exit code
 *   0 after a clean drain, 1 otherwise.
 * - Fastify's own `app.listen()` with nobody else listening for SIGTERM or
 *   SIGINT: the owner drains, then ends the process by the signal itself
 *   (raised again once its listeners are gone), or with exit code 1 when the
 *   drain was not clean.
 * - Another owner listens (close-with-grace, `fastify start`, the app's own
 *   `process.on`/`once('SIGTERM', …)`, registered before or after the plugin,
 *   see signal-listeners.ts): the owner only tells the drain that a signal
 *   arrived, so that the `app.close()` that owner calls drains like SIGTERM,
 *   and leaves the end of the process to it.
 *
 * Why `listen()` is not built on close-with-grace: close-with-grace ends the
 * process itself, with `process.exit` hard-coded in every path (after its
 * callback settles, on its timeout, after a second signal, after a second
 * error), and in three of them right after a synchronous callback, leaving
 * no turn to wait for the log. Used here it would either end the process
 * outside the one injectable place, or have to be neutralised (a callback
 * that never settles, its timeout off), which is configuring it only to
 * defeat it. What it does besides ending the process (listening once per
 * signal and error, a timeout, second-signal handling) is the few lines
 * below. Where it fits is in the app: Fastify's documented shutdown recipe
 * and `fastify start` use it, and the plugin recognises it as an owner and
 * drains inside its `app.close()`. The plugin does not import it.
 *
 * The plugin's signal listeners are in place while the app's startup checks
 * run (a SIGTERM then stops the start) and from when its server listens
 * until it closes; under `listen()`, from the claim on. Between the checks
 * and the listen the boot can still fail (a later onReady hook rejects, the
 * listen fails): nothing is left behind then, so failed boots in one
 * process leave nothing that a later SIGTERM would drain.
 */
import type { FastifyInstance } from 'fastify'
import { PROMPT_DRAIN, type DrainController, type DrainRunOptions } from '../drain/index.js'
import { logWritten } from '../log-written.js'
import { loggableError } from '../scrub.js'
import { processEnd, type ProcessEnd } from './exit.js'
import { otherAppDraining, otherOwnerNow, SignalWitness, type OwnerListener } from './signal-listeners.js'
import { kProcessOwner, kSignalOwner } from './symbols.js'

/** What the plugin listens for on its own: Kubernetes' SIGTERM, and a developer's Ctrl-C. */
export const TERMINATION_SIGNALS: readonly NodeJS.Signals[] = Object.freeze(['SIGTERM', 'SIGINT'])

/**
 * What `listen()` also drains on: a closed terminal (SIGHUP), Ctrl-\
 * (SIGQUIT), nodemon's restart (SIGUSR2). Not the signals of a fault
 * (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT), from which Node's docs say JS
 * listeners cannot safely run.
 */
export const LISTEN_SIGNALS: readonly NodeJS.Signals[] = Object.freeze([...TERMINATION_SIGNALS, 'SIGHUP', 'SIGQUIT', 'SIGUSR2'])

const ERROR_EVENTS = ['uncaughtException', 'unhandledRejection'] as const

/**
 * How a signal drains. Kubernetes sends SIGTERM; outside it (no
 * `KUBERNETES_SERVICE_HOST`) SIGINT is a developer's Ctrl-C, which must not
 * wait for an endpoint removal that will never come.
 */
export function runOptionsFor (signal: NodeJS.Signals | undefined, env: NodeJS.ProcessEnv = process.env): DrainRunOptions {
  return signal === 'SIGINT' && env.KUBERNETES_SERVICE_HOST === undefined ? PROMPT_DRAIN : {}
}

/** What `listen()` holds while it starts the service and after. */
export interface ProcessClaim {
  /** The listen under way: a drain that starts meanwhile waits for it, and closes the listener it opens. */
  starting: (listening: Promise<unknown>) => void
  /** True once a signal, an error or `close()` started the drain: the start must stop. */
  readonly stopping: boolean
  /** Drains as SIGTERM would, then ends the process (`ListenHandle.close()`). */
  close: () => void
  /** The start failed: gives up the claim and whatever it installed. */
  release: () => void
}

/** The internal interface of the owner, reached through `processOwnerOf(app)`. */
export interface ProcessOwner {
  /** The app's drain (tests drive it directly). */
  readonly drain: DrainController
  /** `listen()`: this owner ends the process from now on, with exit codes, through `exit`. */
  claim: (exit: (code: number) => void) => ProcessClaim
}

/** The process owner the plugin registered on `app`, or undefined without the plugin. */
export function processOwnerOf (app: FastifyInstance): ProcessOwner | undefined {
  const owner = (app as unknown as Record<symbol, Partial<ProcessOwner> | undefined>)[kProcessOwner]
  return typeof owner?.claim === 'function' ? owner as ProcessOwner : undefined
}

/** How a drain's run ends the process. */
type Ending = { readonly code: number } | { readonly signal: NodeJS.Signals }

interface Run {
  /** What started it: a signal, `uncaught error`, `close() called`. */
  readonly reason: string
  readonly signal: NodeJS.Signals | undefined
  /** An uncaught error started it: exit code 1 however clean the drain. */
  readonly failed: boolean
}

export class Owner implements ProcessOwner {
  readonly drain: DrainController
  readonly #app: FastifyInstance
  readonly #end: ProcessEnd
  readonly #witness = new SignalWitness(LISTEN_SIGNALS)
  readonly #signalListener: OwnerListener
  readonly #errorListener = (err: unknown): void => { this.#onError(err) }
  readonly #installed = new Set<string>()
  #exit: ((code: number) => void) | undefined
  #run: Run | undefined
  #listening: Promise<unknown> | undefined
  #guard: NodeJS.Timeout | undefined
  #ended = false
  #closed = false

  constructor (app: FastifyInstance, drain: DrainController, end: ProcessEnd = processEnd) {
    this.#app = app
    this.drain = drain
    this.#end = end
    const listener: OwnerListener = (signal) => { this.#onSignal(signal) }
    listener[kSignalOwner] = Object.freeze({ draining: () => this.#run !== undefined })
    this.#signalListener = listener
  }

  claim (exit: (code: number) => void): ProcessClaim {
    // A second listen() on one app fails in app.listen(): its release must not undo the first claim.
    const first = this.#exit === undefined
    if (first) this.#exit = exit
    this.#install()
    const draining = (): boolean => this.#run !== undefined
    return {
      starting: (listening) => { this.#listening = listening },
      get stopping () { return draining() },
      close: () => { this.#start('close() called', runOptionsFor(undefined), undefined, false) },
      release: () => {
        // A drain under way (a signal during the start) still ends the process with an exit code.
        if (!first || this.#run !== undefined) return
        this.#exit = undefined
        this.#uninstall()
      }
    }
  }

  /**
   * Runs the startup checks (the plugin's onReady hook) with the signal
   * listeners in place, so that a signal stops the start. Afterwards they
   * wait for the server to listen: the boot can still fail (a later onReady
   * hook rejects, the listen fails with EADDRINUSE), and an app that never
   * listens must leave nothing behind that a later SIGTERM would drain. Under
   * `listen()` they stay: it gives them up itself if the start fails.
   */
  async duringStartupChecks (checks: () => Promise<void>): Promise<void> {
    this.#install()
    try {
      await checks()
    } finally {
      if (this.#run === undefined && this.#exit === undefined) this.#uninstall()
    }
  }

  /** The server listens (whoever called listen, and again after a failed listen was retried). */
  listens (): void {
    if (!this.#closed) this.#install()
  }

  /** The app closed: its listeners go, unless this owner drains (they go when it ends). */
  closed (): void {
    this.#closed = true
    if (this.#run === undefined) this.#uninstall()
  }

  #install (): void {
    const claimed = this.#exit !== undefined
    for (const signal of claimed ? LISTEN_SIGNALS : TERMINATION_SIGNALS) {
      if (this.#installed.has(signal)) continue
      this.#installed.add(signal)
      process.on(signal, this.#signalListener)
    }
    for (const event of claimed ? ERROR_EVENTS : []) {
      if (this.#installed.has(event)) continue
      this.#installed.add(event)
      process.on(event, this.#errorListener)
    }
    this.#witness.watch()
  }

  #uninstall (): void {
    for (const event of this.#installed) process.removeListener(event, event.startsWith('SIG') ? this.#signalListener : this.#errorListener)
    this.#installed.clear()
    this.#witness.unwatch()
  }

  #onSignal (signal: NodeJS.Signals): void {
    if (this.#run !== undefined) {
      // An operator's second signal, a developer's second Ctrl-C: cut now.
      this.drain.abort(`second ${signal}`)
      void this.#endNow({ code: 1 }, 'info', `exiting with code 1: second ${signal}`)
      return
    }
    const options = runOptionsFor(signal)
    if (this.#exit === undefined && this.#witness.otherOwnerAtSignal(signal)) {
      this.drain.announce(signal, options)
      return
    }
    this.#start(signal, options, signal, false)
  }

  #onError (err: unknown): void {
    if (this.#run !== undefined) {
      this.#app.log.error({ error: loggableError(err) }, 'second uncaught error while draining')
      this.drain.abort('second uncaught error')
      void this.#endNow({ code: 1 }, 'info', 'exiting with code 1: second uncaught error')
      return
    }
    this.#app.log.error({ error: loggableError(err) }, 'uncaught error: draining without delay')
    this.#start('uncaught error', { delayMs: 0 }, undefined, true)
  }

  #start (reason: string, options: DrainRunOptions, signal: NodeJS.Signals | undefined, failed: boolean): void {
    if (this.#run !== undefined) return
    const run: Run = this.#run = { reason, signal, failed }
    const guardMs = this.drain.config.budget.lastResortMs
    // The one last resort, ref'ed on purpose: the drain bounds HTTP and its
    // cleanups, but not the app's own onClose hooks.
    this.#guard = setTimeout(() => {
      this.#uninstall()
      void this.#endNow({ code: 1 }, 'error', `drain still running ${guardMs} ms after ${reason}: exiting before SIGKILL`, { maxLogWaitMs: this.#logWaitBeforeKillMs() })
    }, guardMs)
    void this.#drainThenEnd(run, options)
  }

  async #drainThenEnd (run: Run, options: DrainRunOptions): Promise<void> {
    // A listen under way is only a bind away: the drain then closes that listener.
    await Promise.allSettled([this.#listening])
    const report = await this.drain.drain(run.reason, options)
    this.#uninstall()
    const clean = report.clean && !run.failed
    if (this.#exit !== undefined || run.signal === undefined) {
      await this.#endNow({ code: clean ? 0 : 1 }, 'info', `exiting with code ${clean ? 0 : 1}`)
      return
    }
    const { signal } = run
    // Seen by the app (or the last app) that ends the process, and by Node if it exits on its own.
    if (!clean) process.exitCode = 1
    if (otherAppDraining(signal)) {
      // The last app to finish ends the process.
      clearTimeout(this.#guard)
    } else if (otherOwnerNow(signal)) {
      // A handler registered after the signal arrived: it gets the signal,
      // raised again, and ends the process the way it chooses. A signal
      // listener does not hold the event loop: the ref'ed guard does, until
      // the signal has reached the handler.
      const handedOver: OwnerListener = () => { clearTimeout(this.#guard) }
      // Still this app's: another app finishing meanwhile leaves the end to the handler.
      handedOver[kSignalOwner] = this.#signalListener[kSignalOwner]
      process.once(signal, handedOver)
      await this.#endNow({ signal }, 'info', `${signal} handed to the handler registered after it`, { handover: true })
    } else if (process.exitCode === 1) {
      await this.#endNow({ code: 1 }, 'info', 'exiting with code 1: the drain was not clean')
    } else {
      await this.#endNow({ signal }, 'info', `exiting by ${signal}`)
    }
  }

  /** Milliseconds left between the last resort and SIGKILL, half of them given to the log. */
  #logWaitBeforeKillMs (): number {
    const { gracePeriodMs, preStopSleepMs, budget } = this.drain.config
    return Math.max(0, (gracePeriodMs - preStopSleepMs - budget.lastResortMs) / 2)
  }

  /**
   * The one end of the process: logged, the log written, then an exit code
   * or the signal raised again. `handover`: the signal goes to a handler
   * registered after it, which ends the process itself.
   */
  async #endNow (ending: Ending, level: 'info' | 'error', msg: string, options: { maxLogWaitMs?: number, handover?: boolean } = {}): Promise<void> {
    if (this.#ended) return
    this.#ended = true
    // Left armed when the signal is raised again: if something swallows it,
    // the process still ends before SIGKILL.
    if ('code' in ending) clearTimeout(this.#guard)
    const fields = 'code' in ending ? { drain: 'exit', exitCode: ending.code } : options.handover === true ? { signal: ending.signal } : { drain: 'exit', signal: ending.signal }
    this.#app.log[level](fields, msg)
    // Death by a signal fires no 'exit' event on which pino writes what it
    // still holds, and process.exit() may cut a write in flight: the end of
    // the timeline would be lost or out of order.
    await logWritten(this.#app.log, options.maxLogWaitMs)
    if ('code' in ending) (this.#exit ?? this.#end.exit)(ending.code)
    else this.#end.raise(ending.signal)
  }
}

/**
 * Creates the app's process owner and hands it to the process layer on the
 * app (see symbols.ts). The plugin runs its startup checks through
 * `duringStartupChecks`, in its onReady hook.
 */
export function ownProcess (app: FastifyInstance, drain: DrainController, end: ProcessEnd = processEnd): Owner {
  const owner = new Owner(app, drain, end)
  app.decorate(kProcessOwner, owner)
  app.server.on('listening', () => { owner.listens() })
  app.addHook('onClose', async () => { owner.closed() })
  return owner
}
