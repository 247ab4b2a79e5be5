/**
 * One replica: a real child process on its own loopback port, a kubelet-like
 * readiness prober, and the Kubernetes termination sequence on deletion.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { ENV } from 'fastify-zero-downtime'
import { probeOnce } from '../network/http-probe.js'
import { LOOPBACK } from '../network/loopback.js'
import type { PodSpec } from './spec.js'
import { stoppedReport, type DrainReading } from './drain-report.js'
import type { ClusterEventLog } from './events.js'

const LOG_TAIL_LINES = 40
const MAX_LINE = 1024 * 1024

export class Pod {
  readonly name: string
  readonly version: string
  readonly port: number
  ready = false
  /** Marked for deletion: never an endpoint again, whatever readiness says. */
  terminating = false
  exited = false
  /** How its connections ended, from its drain's `stopped` log line (none from a service that does not log it). */
  drainReport: DrainReading | undefined
  /** Resolves when the process has exited. */
  readonly done: Promise<void>
  readonly #spec: PodSpec
  readonly #timeline: ClusterEventLog
  readonly #child: ChildProcess
  readonly #onChange: () => void
  readonly #timers = new Set<NodeJS.Timeout>()
  readonly #logTail: string[] = []
  #successes = 0
  #failures = 0

  constructor (name: string, version: string, port: number, spec: PodSpec, timeline: ClusterEventLog, onChange: () => void) {
    this.name = name
    this.version = version
    this.port = port
    this.#spec = spec
    this.#timeline = timeline
    this.#onChange = onChange
    const [file, ...args] = spec.command
    this.#child = spawn(file === 'node' ? process.execPath : file as string, args, {
      cwd: spec.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        ...spec.env,
        PORT: String(port),
        HOST: LOOPBACK,
        VERSION: version,
        [ENV.gracePeriodSeconds]: String(spec.gracePeriodMs / 1000),
        [ENV.preStopSleepSeconds]: String(spec.preStopSleepMs / 1000)
      }
    })
    const keep = (chunk: Buffer): void => {
      this.#logTail.push(...chunk.toString().split('\n').filter((line) => line !== ''))
      this.#logTail.splice(0, this.#logTail.length - LOG_TAIL_LINES)
    }
    this.#child.stdout?.on('data', keep)
    // Whole lines only (a chunk may end mid-line); a line longer than any
    // drain report is dropped rather than buffered without bound.
    let partial = ''
    this.#child.stdout?.on('data', (chunk: Buffer) => {
      const lines = (partial + chunk.toString()).split('\n')
      partial = lines.pop() ?? ''
      if (partial.length > MAX_LINE) partial = ''
      for (const line of lines) this.drainReport = stoppedReport(line) ?? this.drainReport
    })
    this.#child.stderr?.on('data', keep)
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
    timeline.add('created', name, version, `port ${port}`)
    this.#schedule(() => { void this.#probe() }, 0)
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

  async #probe (): Promise<void> {
    const { path, timeoutMs, periodMs, successThreshold, failureThreshold } = this.#spec.readiness
    const ok = await probeOnce(this.port, path, timeoutMs, this.#spec.protocol)
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
    this.#timeline.add(ready ? 'ready' : 'unready', this.name, this.version)
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
