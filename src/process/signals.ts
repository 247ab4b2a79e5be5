/**
 * SIGTERM without an owner. A service that registers the plugin and starts
 * with Fastify's own `app.listen()` has no SIGTERM handler, and Node's
 * default action kills it mid-request. So the plugin listens for SIGTERM and
 * SIGINT from registration on (a signal during the startup checks included)
 * and decides at each signal, not before (close-with-grace is often
 * installed after listen), whether someone else owns the process:
 *
 * - another listener (listen(), close-with-grace, fastify-cli, the app's own
 *   handler) owns it: the plugin only notes the signal, so that the
 *   `app.close()` that owner calls drains like SIGTERM, not like a test's
 *   teardown;
 * - nobody else: the plugin drains, removes its listeners and raises the
 *   signal again, so the process ends with the signal's status however much
 *   still holds the event loop; a drain that was not clean ends with exit
 *   code 1 instead, and a second signal cuts what is left.
 *
 * signal-exit's listeners (tap's coverage, foreground-child, many CLIs) are
 * not owners: they act only when they are alone, so counting them as owners
 * would leave nobody to drain and a process that never exits. Several apps in
 * one process each drain their own; the last one to finish ends the process.
 */
import type { FastifyInstance } from 'fastify'
import { PROMPT_DRAIN, type DrainController, type DrainRunOptions } from '../drain/index.js'
import { logWritten } from '../log-written.js'
import { processEnd, type ProcessEnd } from './exit.js'

export const TERMINATION_SIGNALS = ['SIGTERM', 'SIGINT'] as const

/** Symbol.for: the ESM and CommonJS builds loaded side by side know each other's listeners. */
const kOwner = Symbol.for('fastify-zero-downtime.signal-owner')
const kSignalExitV4 = Symbol.for('signal-exit emitter')

type OwnerListener = ((signal: NodeJS.Signals) => void) & { [kOwner]?: { readonly draining: () => boolean } }

/**
 * How a signal drains. Kubernetes sends SIGTERM; outside it (no
 * `KUBERNETES_SERVICE_HOST`) SIGINT is a developer's Ctrl-C, which must not
 * wait for an endpoint removal that will never come.
 */
export function runOptionsFor (signal: NodeJS.Signals | undefined, env: NodeJS.ProcessEnv = process.env): DrainRunOptions {
  return signal === 'SIGINT' && env.KUBERNETES_SERVICE_HOST === undefined ? PROMPT_DRAIN : {}
}

/** signal-exit v4 counts its loaded instances on a global, v3 on `process`; each listens once per signal. */
function signalExitListeners (): number {
  const v4 = (globalThis as Record<symbol, { count?: unknown } | undefined>)[kSignalExitV4]?.count
  const v3 = (process as { __signal_exit_emitter__?: { count?: unknown } }).__signal_exit_emitter__?.count
  return (typeof v4 === 'number' ? v4 : 0) + (typeof v3 === 'number' ? v3 : 0)
}

function listeners (signal: NodeJS.Signals): OwnerListener[] {
  return process.listeners(signal) as OwnerListener[]
}

/** True when a listener that is neither the plugin's nor signal-exit's handles `signal`. */
export function otherOwner (signal: NodeJS.Signals): boolean {
  const all = listeners(signal)
  return all.length - all.filter((l) => l[kOwner] !== undefined).length - signalExitListeners() > 0
}

export interface SignalOwner {
  /** On app close: removes the listeners, unless this owner is draining (it removes them when it ends). */
  release: () => void
}

export function ownSignals (app: FastifyInstance, drain: DrainController, end: ProcessEnd = processEnd): SignalOwner {
  let draining: NodeJS.Signals | undefined
  const listener: OwnerListener = (signal) => { onSignal(signal) }
  listener[kOwner] = Object.freeze({ draining: () => draining !== undefined })
  for (const signal of TERMINATION_SIGNALS) process.on(signal, listener)

  function uninstall (): void {
    for (const signal of TERMINATION_SIGNALS) process.removeListener(signal, listener)
  }

  function onSignal (signal: NodeJS.Signals): void {
    if (draining !== undefined) {
      // An operator's second signal, a developer's second Ctrl-C: cut now.
      drain.abort(`second ${signal}`)
      return
    }
    const options = runOptionsFor(signal)
    if (otherOwner(signal)) {
      drain.announce(signal, options)
      return
    }
    draining = signal
    void own(signal, options)
  }

  async function own (signal: NodeJS.Signals, options: DrainRunOptions): Promise<void> {
    const afterMs = drain.config.budget.lastResortMs
    // Ref'ed, and left armed once the signal is raised again: if an app's
    // handler swallows it, this still ends the process before SIGKILL.
    const guard = setTimeout(() => {
      uninstall()
      app.log.error({ drain: 'exit', exitCode: 1 }, `drain still running ${afterMs} ms after ${signal}: exiting before SIGKILL`)
      end.exit(1)
    }, afterMs)
    const report = await drain.drain(signal, options)
    uninstall()
    // Seen by the app that ends the process last, and by Node if it exits on its own.
    if (!report.clean) process.exitCode = 1
    if (listeners(signal).some((l) => l[kOwner]?.draining() === true)) {
      clearTimeout(guard)
      return
    }
    if (process.exitCode === 1) {
      app.log.info({ drain: 'exit', exitCode: 1 }, 'exiting with code 1: the drain was not clean')
      await logWritten(app.log)
      end.exit(1)
    } else {
      app.log.info({ drain: 'exit', signal }, `exiting by ${signal}`)
      // Death by a signal fires no 'exit' event on which pino writes what it
      // still holds: the end of the timeline would be lost.
      await logWritten(app.log)
      end.raise(signal)
    }
  }

  return {
    release () {
      if (draining === undefined) uninstall()
    }
  }
}
