import { EventEmitter } from 'node:events'
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { OPTIONS_EXPECTED, resolveConfig, type ResolvedConfig, type ZeroDowntimeOptions } from './config.js'
import { installDrain, resolveDrainConfig, type DrainController } from './drain/index.js'
import { readiness, type ProbeState } from './health/report.js'
import { installProbeRoutes } from './health/routes.js'
import { loggableError } from './health/scrub.js'
import { CheckRunner } from './health/runner.js'
import type { CheckResult } from './health/types.js'
import { Lifecycle, type LifecycleState } from './lifecycle.js'
import { installMetrics } from './metrics/index.js'
import { errorCodes } from './errors.js'
import { invalid } from './options.js'
import { installPressure } from './pressure/index.js'
import { warnShortCloseGraceDelay } from './process/fastify-cli.js'
import { ownSignals } from './process/signals.js'

export type { ZeroDowntimeOptions } from './config.js'

export interface ZeroDowntimeEvents {
  /** The lifecycle moved (starting → ready → draining → closing → stopped). */
  state: [state: LifecycleState, previous: LifecycleState]
  /** A check's status changed; its first result always counts as a change. */
  check: [result: CheckResult, previous: CheckResult]
}

export interface ZeroDowntime extends Pick<DrainController, 'drain' | 'onGoAway' | 'addCleanup'>, EventEmitter<ZeroDowntimeEvents> {
  readonly lifecycle: Lifecycle
  /** Current lifecycle state. */
  readonly state: LifecycleState
  /** Latest result of every check, in declaration order. */
  readonly checks: readonly CheckResult[]
  /** True when the readiness probe would answer 200 right now. */
  readonly ready: boolean
  /** The resolved (frozen) options. */
  readonly config: ResolvedConfig
  /** Marks the service as started: startup probe turns 200, readiness follows the checks. */
  started: () => void
}

const NO_QUERY = Object.freeze({ verbose: false, exclude: new Set<string>() })

class ZeroDowntimeHandle extends EventEmitter<ZeroDowntimeEvents> implements ZeroDowntime {
  readonly lifecycle: Lifecycle
  readonly config: ResolvedConfig
  readonly drain: DrainController['drain']
  readonly onGoAway: DrainController['onGoAway']
  readonly addCleanup: DrainController['addCleanup']
  readonly #runner: CheckRunner
  readonly #ready: () => boolean

  constructor (lifecycle: Lifecycle, runner: CheckRunner, config: ResolvedConfig, drain: DrainController, ready: () => boolean) {
    super()
    this.lifecycle = lifecycle
    this.config = config
    this.drain = drain.drain
    this.onGoAway = drain.onGoAway
    this.addCleanup = drain.addCleanup
    this.#runner = runner
    this.#ready = ready
  }

  get state (): LifecycleState { return this.lifecycle.state }
  get checks (): readonly CheckResult[] { return this.#runner.results }
  get ready (): boolean { return this.#ready() }
  started (): void { this.lifecycle.advance('ready') }
}

declare module 'fastify' {
  interface FastifyInstance {
    zeroDowntime: ZeroDowntime
  }
}

async function zeroDowntimePlugin (app: FastifyInstance, opts: ZeroDowntimeOptions): Promise<void> {
  // Fastify turns missing options into {}: undefined or null here came from
  // options given as a function that returned nothing.
  if (opts === undefined || opts === null) throw invalid('options', OPTIONS_EXPECTED, opts)
  // A second drain on the same server would race the first one over every socket.
  if (app.hasDecorator('zeroDowntime')) {
    throw new errorCodes.FST_ZD_ALREADY_REGISTERED('the plugin is already registered on this instance (or a parent of it); register it once, on the root instance')
  }
  const config = resolveConfig(opts)
  const drainConfig = resolveDrainConfig(opts.drain)
  const lifecycle = new Lifecycle()
  const runner = new CheckRunner(config.checks, app.log)
  const pressure = await installPressure(app, config.pressure)

  const probeState = (): ProbeState => ({
    lifecycle: lifecycle.state,
    terminating: lifecycle.terminating,
    checks: runner.checks,
    results: runner.results,
    pressure: pressure.measurements()
  })
  installProbeRoutes(app, config, probeState)

  const drain = installDrain(app, lifecycle, drainConfig)
  if (config.metrics !== false) {
    await installMetrics(config.metrics, {
      lifecycle: () => lifecycle.state,
      checks: () => runner.results,
      drain: () => drain.progress(),
      shed: pressure.shed
    })
  }

  const decorator = new ZeroDowntimeHandle(lifecycle, runner, config, drain, () => readiness(probeState(), NO_QUERY).statusCode === 200)
  app.decorate('zeroDowntime', decorator)

  const relay = <E extends keyof ZeroDowntimeEvents>(event: E, ...args: ZeroDowntimeEvents[E]): void => {
    try {
      (decorator.emit as (event: string, ...args: unknown[]) => boolean)(event, ...args)
    } catch (err) {
      // A throwing app listener must not break the drain or the checks that emitted it.
      app.log.error({ error: loggableError(err) }, `a zeroDowntime "${event}" listener threw`)
    }
  }
  runner.on('check', (result, previous) => { relay('check', result, previous) })
  lifecycle.on('state', (state, previous) => {
    // Once terminating, readiness is 503 whatever the checks say, and the
    // drain is about to close the very pools they use: stop before that.
    if (lifecycle.terminating) runner.stop()
    relay('state', state, previous)
  })

  // First results before listening, so the pod is ready at its first probe.
  app.addHook('onReady', async () => { await runner.start() })
  if (config.startup === 'listen') app.addHook('onListen', async () => { lifecycle.advance('ready') })
  // Last: a registration that failed above leaves no process listener behind.
  const signals = ownSignals(app, drain)
  app.addHook('onClose', async () => {
    runner.stop()
    signals.release()
  })
  warnShortCloseGraceDelay(drainConfig)
}

export const zeroDowntime = fp(zeroDowntimePlugin, { fastify: '5.x', name: 'fastify-zero-downtime' })
