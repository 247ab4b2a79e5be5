// SKELETON — the probes helper owns this file and completes it.
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { Lifecycle } from './lifecycle.js'
import { installDrain, resolveDrainConfig, type DrainController } from './drain/index.js'

export interface ZeroDowntimeOptions {
  drain?: import('./drain/index.js').DrainOptions
}

export interface ZeroDowntime extends Pick<DrainController, 'drain' | 'onGoAway' | 'addCleanup'> {
  readonly lifecycle: Lifecycle
  /** Marks the service as started: startup probe turns 200, readiness follows the checks. */
  started (): void
}

declare module 'fastify' {
  interface FastifyInstance {
    zeroDowntime: ZeroDowntime
  }
}

async function zeroDowntimePlugin (app: FastifyInstance, opts: ZeroDowntimeOptions): Promise<void> {
  const drainConfig = resolveDrainConfig(opts.drain)
  const lifecycle = new Lifecycle()
  const drain = installDrain(app, lifecycle, drainConfig)
  app.decorate('zeroDowntime', {
    lifecycle,
    started: () => { lifecycle.advance('ready') },
    drain: drain.drain,
    onGoAway: drain.onGoAway,
    addCleanup: drain.addCleanup
  })
}

export const zeroDowntime = fp(zeroDowntimePlugin, { fastify: '5.x', name: 'fastify-zero-downtime' })
