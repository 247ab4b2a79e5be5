/**
 * The drain's pino timeline: one line per step, each with the step name under
 * `drain` and the milliseconds since the drain started under `drainMs`, so a
 * rollout's logs show exactly where the time went
 * (`jq 'select(.drain) | [.drainMs, .drain, .msg]'`).
 */
import type { FastifyBaseLogger } from 'fastify'
import { SYSTEM_CLOCK, type Clock } from '../clock.js'

export type TimelineStep =
  | 'signal'
  | 'readiness-off'
  | 'delay-over'
  | 'listener-closed'
  | 'progress'
  | 'idle-closed'
  | 'deadline'
  | 'cut'
  | 'http-drained'
  | 'close-error'
  | 'stopped'
  | 'exit'

export class Timeline {
  readonly #log: FastifyBaseLogger
  readonly #clock: Clock
  readonly #startedAt: number

  constructor (log: FastifyBaseLogger, clock: Clock = SYSTEM_CLOCK) {
    this.#log = log
    this.#clock = clock
    this.#startedAt = clock.now()
  }

  /** Whole milliseconds since the drain started. */
  get elapsedMs (): number {
    return Math.round(this.#clock.now() - this.#startedAt)
  }

  info (step: TimelineStep, msg: string, fields: Record<string, unknown> = {}): void {
    this.#log.info({ drain: step, drainMs: this.elapsedMs, ...fields }, msg)
  }

  error (step: TimelineStep, msg: string, fields: Record<string, unknown> = {}): void {
    this.#log.error({ drain: step, drainMs: this.elapsedMs, ...fields }, msg)
  }
}
