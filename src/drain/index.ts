// CONTRACT STUB — the drain helper replaces the bodies; the signatures are shared
// with src/plugin.ts (probes) and src/process/ (listen). Change them only together.
import type { FastifyInstance } from 'fastify'
import type { Lifecycle } from '../lifecycle.js'

/** What the user may pass as `drain` in the plugin options (all optional). */
export interface DrainOptions {
  /** Serve normally this long after SIGTERM before closing the listener. */
  delayMs?: number
}

/** Resolved once at registration; never mutated. */
export interface DrainConfig {
  readonly delayMs: number
}

/** Validates `drain` options (TypeError naming `drain.<key>`) and reads the env budget. */
export function resolveDrainConfig (input: unknown, env: NodeJS.ProcessEnv = process.env): DrainConfig {
  void input; void env
  return Object.freeze({ delayMs: 0 })
}

/** Order in which cleanup runs after HTTP has drained. */
export type CleanupPhase = 'consumers' | 'databases' | 'caches' | 'brokers' | 'other'

export interface DrainController {
  /** Runs the whole drain once; later calls return the same promise. */
  drain (reason?: string): Promise<DrainReport>
  /** Called at drain start so SSE streams / WebSockets can tell clients to reconnect elsewhere. */
  onGoAway (fn: () => void | Promise<void>): void
  /** Registers a dependency to close after HTTP has drained, in phase order. */
  addCleanup (phase: CleanupPhase, name: string, fn: () => unknown, timeoutMs?: number): void
}

export interface DrainReport {
  /** True when nothing had to be cut at the deadline and every cleanup succeeded. */
  readonly clean: boolean
}

export function installDrain (app: FastifyInstance, lifecycle: Lifecycle, config: DrainConfig): DrainController {
  void app; void config
  let done: Promise<DrainReport> | undefined
  return {
    drain () {
      done ??= (async () => {
        lifecycle.advance('draining')
        lifecycle.advance('closing')
        await app.close()
        lifecycle.advance('stopped')
        return { clean: true }
      })()
      return done
    },
    onGoAway () {},
    addCleanup () {}
  }
}
