/**
 * One replica: a real child process at the address its network gives it, a
 * kubelet-like readiness prober, and the Kubernetes termination sequence on
 * deletion.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { ENV } from 'fastify-zero-downtime'
import { probeOnce } from '../network/http-probe.js'
import { formatAddress, type PodAddress, type PodPlacement } from '../network/pod-network.js'
import { stoppedReport, type DrainReading } from './drain-report.js'
import type { ClusterEventLog } from './events.js'
import type { PodSpec } from './spec.js'

const LOG_TAIL_LINES = 40
const MAX_LINE = 1024 * 1024

/** The pod's process: its command, in its environment and at its place on the network. */
function startProcess (spec: PodSpec, placement: PodPlacement, version: string): ChildProcess {
  const command = spec.command.map((arg, i) => i === 0 && arg === 'node' ? process.execPath : arg)
  const [file, ...args] = [...placement.launcher ?? [], ...command]
  return spawn(file as string, args, {
    cwd: spec.cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      ...spec.env,
      ...placement.env,
      VERSION: version,
      [ENV.gracePeriodSeconds]: String(spec.gracePeriodMs / 1000),
      [ENV.preStopSleepSeconds]: String(spec.preStopSleepMs / 1000)
    }
  })
}

/** The first `n` addresses of a list, as one string to compare. */
const firstOf = (list: readonly PodAddress[], n: number): string => list.slice(0, n).map(formatAddress).join(' ')

export class Pod {
  readonly name: string
  readonly version: string
  ready = false
  /** Marked for deletion: never an endpoint again, whatever readiness says. */
  terminating = false
  exited = false
  /** Where it serves: unknown until a readiness probe found it answering there. */
  address: PodAddress | undefined
  /** Set when its network could not tell where it listens: the run cannot go on. */
  failure: string | undefined
  /** How its connections ended, from its drain's `stopped` log line (none from a service that does not log it). */
  drainReport: DrainReading | undefined
  /** Resolves when the process has exited. */
  readonly done: Promise<void>
  /** Its place on the network: where it was told to listen. */
  readonly placement: PodPlacement
  readonly #spec: PodSpec
  readonly #timeline: ClusterEventLog
  readonly #child: ChildProcess
  readonly #onChange: () => void
  readonly #timers = new Set<NodeJS.Timeout>()
  readonly #logTail: string[] = []
  #successes = 0
  #failures = 0

  constructor (name: string, version: string, spec: PodSpec, placement: PodPlacement, timeline: ClusterEventLog, onChange: () => void) {
    this.name = name
    this.version = version
    this.#spec = spec
    this.placement = placement
    this.#timeline = timeline
    this.#onChange = onChange
    this.#child = startProcess(spec, placement, version)
    this.#readOutput()
    this.done = new Promise((resolve) => {
      const finish = (detail: string): void => {
        // Node may emit 'error' after 'exit' (a signal sent to a process that just exited): settle once.
        /* c8 ignore next */
        if (this.exited) return
        this.exited = true
        this.ready = false
        for (const timer of this.#timers) clearTimeout(timer)
        timeline.add('exited', name, version, detail)
        this.#onChange()
        resolve()
      }
      this.#child.on('exit', (code, signal) => { finish(signal ?? `code ${code as number}`) })
      // A command that cannot start (missing binary) never emits 'exit'.
      this.#child.on('error', (err) => { this.#logTail.push(String(err)); finish('failed to start') })
    })
    timeline.add('created', name, version)
    this.#schedule(() => { void this.#probe() }, 0)
  }

  /** Keeps the last lines it printed, and reads its drain report from stdout. */
  #readOutput (): void {
    const keep = (chunk: Buffer): void => {
      this.#logTail.push(...chunk.toString().split('\n').filter((line) => line !== ''))
      this.#logTail.splice(0, this.#logTail.length - LOG_TAIL_LINES)
    }
    this.#child.stdout?.on('data', keep)
    this.#child.stderr?.on('data', keep)
    // Whole lines only (a chunk may end mid-line); a line longer than any
    // drain report is dropped rather than buffered without bound.
    let partial = ''
    this.#child.stdout?.on('data', (chunk: Buffer) => {
      const lines = (partial + chunk.toString()).split('\n')
      // split() always returns at least one element: the text after the last newline.
      partial = lines.pop() as string
      if (partial.length > MAX_LINE) partial = ''
      for (const line of lines) this.drainReport = stoppedReport(line) ?? this.drainReport
    })
  }

  /** The last lines the process printed, for error messages. */
  get logTail (): string {
    return this.#logTail.join('\n')
  }

  #schedule (fn: () => void, ms: number): void {
    const timer = setTimeout(() => { this.#timers.delete(timer); fn() }, ms)
    timer.unref()
    this.#timers.add(timer)
  }

  /**
   * One readiness probe. Until the pod's address is known, each place its
   * network says it may serve on is probed, and the first that answers is
   * its address from then on.
   */
  async #probeOnce (): Promise<boolean> {
    const { path, timeoutMs } = this.#spec.readiness
    const { protocol } = this.#spec
    if (this.address !== undefined) return await probeOnce(this.address, path, timeoutMs, protocol)
    const candidates = await this.#candidates()
    for (const [i, candidate] of candidates.entries()) {
      if (!await probeOnce(candidate, path, timeoutMs, protocol)) continue
      // The pod may have opened a socket that ranks before this one while it
      // was probed (its app binds HOST after a second server on every address
      // answered): the answer counts only if the list still starts as it did
      // up to this candidate, else the next probe starts over from the new list.
      if (firstOf(await this.#candidates(), i + 1) !== firstOf(candidates, i + 1)) return false
      this.address = candidate
      return true
    }
    return false
  }

  /** Where the pod's network says it may serve, in order; none (and the pod failed) when that cannot be learnt. */
  async #candidates (): Promise<readonly PodAddress[]> {
    try {
      // A process that failed to start has no pid, but it never gets here: its 'error' ends it before the first probe.
      return await this.placement.candidates(this.#child.pid as number)
    } catch (err) {
      this.failure = `cannot learn where it listens: ${(err as Error).message}`
      this.#onChange()
      return []
    }
  }

  async #probe (): Promise<void> {
    const { periodMs, successThreshold, failureThreshold } = this.#spec.readiness
    const ok = await this.#probeOnce()
    // A probe still in flight when 'exit' was handled must not schedule another
    // one. Which comes first, the probe's socket error or 'exit', is up to the
    // OS, so a test cannot force this branch.
    /* c8 ignore next */
    if (this.exited) return
    this.#successes = ok ? this.#successes + 1 : 0
    this.#failures = ok ? 0 : this.#failures + 1
    if (!this.ready && this.#successes >= successThreshold) this.#setReady(true)
    else if (this.ready && this.#failures >= failureThreshold) this.#setReady(false)
    this.#schedule(() => { void this.#probe() }, periodMs)
  }

  #setReady (ready: boolean): void {
    this.ready = ready
    if (ready) this.#timeline.add('ready', this.name, this.version, formatAddress(this.address as PodAddress))
    else this.#timeline.add('unready', this.name, this.version)
    this.#onChange()
  }

  /**
   * Deletion as the kubelet does it: the endpoint goes (the caller propagates
   * that with its delay) while the preStop sleep runs; then SIGTERM; SIGKILL
   * when the grace period, counted from deletion, is over.
   */
  delete (): void {
    if (this.terminating) return
    this.terminating = true
    this.#timeline.add('deleted', this.name, this.version)
    this.#onChange()
    if (this.exited) return
    this.#schedule(() => {
      this.#timeline.add('sigterm', this.name, this.version)
      this.#child.kill('SIGTERM')
    }, this.#spec.preStopSleepMs)
    this.#schedule(() => {
      this.#timeline.add('sigkill', this.name, this.version)
      this.#child.kill('SIGKILL')
    }, this.#spec.gracePeriodMs)
  }

  /** Ends the process at once (end of run, or the run failed). */
  kill (): void {
    if (!this.exited) this.#child.kill('SIGKILL')
  }
}
