/**
 * The preflight: before any load, each request a scenario will send is tried
 * once against one replica (or, under `check`, the URL). A route that is not
 * there (404, 405, 501, an SSE request answered with anything but an event
 * stream, a WebSocket upgrade answered with anything but 101) would make every request of the scenario a "drop" that says nothing
 * about the rollout: such a scenario is not run, and the report says why.
 * Any other answer, an error or a timeout included, is the run's to count.
 */
import { randomBytes } from 'node:crypto'
import { request } from 'node:http'
import { connect } from 'node:http2'
import { formatAddress, type PodAddress } from '../network/pod-network.js'
import type { Probe, Scenario } from './scenarios.js'
import { requestHeaders, requestKind } from './target.js'
import type { Traffic } from './traffic.js'

/** A scenario the preflight kept out of a target's runs, and why. */
export interface NotRun {
  readonly scenario: string
  readonly label: string
  /** `GET /slow answered 404; point it with --slow-path or leave it out` */
  readonly reason: string
}

export interface Preflight {
  readonly runnable: readonly Scenario[]
  readonly notRun: readonly NotRun[]
}

/** Answers that say the route is not there (not that it failed). */
const ABSENT = new Set([404, 405, 501])

const isEventStream = (contentType: string | undefined): boolean => /^text\/event-stream\b/i.test(contentType ?? '')

/** Why the answer says the route is not there, or undefined. */
function absence (probe: Probe, status: number, contentType: string | undefined): string | undefined {
  const kind = requestKind(probe.request)
  if (ABSENT.has(status)) return `${kind} answered ${status}`
  // An upgrade that was accepted never gets here ('upgrade', not 'response').
  if (probe.via === 'ws') return `${kind} answered ${status}, not 101: the WebSocket upgrade was refused`
  if (probe.via !== 'sse') return undefined
  if (status !== 200) return `${kind} answered ${status}, not an event stream`
  return isEventStream(contentType) ? undefined : `${kind} answered ${contentType ?? 'no content-type'}, not text/event-stream`
}

/** What a probe adds to its request to be taken as an event stream or a WebSocket upgrade. */
const VIA_HEADERS: Readonly<Record<Probe['via'], Readonly<Record<string, string>>>> = {
  h1: {},
  h2: {},
  sse: { accept: 'text/event-stream' },
  ws: { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': randomBytes(16).toString('base64') }
}

/** One HTTP/1.1 request, ended as soon as its status line is in (an event stream never ends). */
async function tryH1 (address: PodAddress, probe: Probe, timeoutMs: number): Promise<string | undefined> {
  const { method, path, body } = probe.request
  const headers = { ...requestHeaders(probe.request), ...VIA_HEADERS[probe.via] }
  return await new Promise((resolve) => {
    const req = request({ host: address.host, port: address.port, method, path, headers, agent: false, timeout: timeoutMs }, (res) => {
      resolve(absence(probe, res.statusCode as number, res.headers['content-type']))
      // Ending early aborts the response: nothing more is read from it.
      res.on('error', () => {})
      req.destroy()
    })
    req.on('upgrade', (_res, socket) => {
      resolve(undefined)
      socket.destroy()
    })
    req.on('timeout', () => { req.destroy() })
    req.on('error', () => { resolve(undefined) })
    req.end(body)
  })
}

/** The same over h2c, on a session of its own. */
async function tryH2 (address: PodAddress, probe: Probe, timeoutMs: number): Promise<string | undefined> {
  return await new Promise((resolve) => {
    const session = connect(`http://${formatAddress(address)}`)
    const done = (reason: string | undefined): void => { clearTimeout(timer); session.destroy(); resolve(reason) }
    const timer = setTimeout(() => { done(undefined) }, timeoutMs)
    session.on('error', () => { done(undefined) })
    const req = session.request({ ...requestHeaders(probe.request), ':method': probe.request.method, ':path': probe.request.path })
    req.on('response', (headers) => { done(absence(probe, Number(headers[':status']), headers['content-type'])) })
    req.on('error', () => { done(undefined) })
    req.end(probe.request.body)
  })
}

/**
 * Tries every scenario's requests at `address` (each distinct request once,
 * all at once) and keeps out the scenarios with a request that is not there.
 */
export async function preflight (address: PodAddress, scenarios: readonly Scenario[], traffic: Traffic, label: string, timeoutMs: number): Promise<Preflight> {
  const tried = new Map<string, Promise<string | undefined>>()
  const attempt = async (probe: Probe): Promise<string | undefined> => {
    const key = JSON.stringify([probe.via, probe.request.method, probe.request.path, probe.request.headers, probe.request.body])
    let answer = tried.get(key)
    if (answer === undefined) {
      answer = probe.via === 'h2' ? tryH2(address, probe, timeoutMs) : tryH1(address, probe, timeoutMs)
      tried.set(key, answer)
    }
    const reason = await answer
    return reason === undefined ? undefined : `${reason}; ${probe.advice}`
  }
  const verdicts = await Promise.all(scenarios.map(async (scenario) => {
    const reasons = await Promise.all(scenario.probes(traffic).map(attempt))
    return { scenario, reason: reasons.find((r) => r !== undefined) }
  }))
  return {
    runnable: verdicts.filter((v) => v.reason === undefined).map((v) => v.scenario),
    notRun: verdicts.flatMap((v) => v.reason === undefined ? [] : [{ scenario: v.scenario.name, label, reason: v.reason }])
  }
}
