// What connection max age costs and what it buys, measured side by side in
// one run, over HTTP/1.1, HTTPS and h2 over TLS:
//
// - cost: many keep-alive connections (`--connections`, each a closed loop
//   with `--think` ms between requests) against the plugin with max age off
//   and with short ages, in paired rounds (paired.ts). From the server's CPU
//   and its accepted connections: the CPU of one reconnect (TLS handshake
//   included), hence what an age costs at N connections (N / age reconnects
//   a second).
// - follow: the same clients through a TCP switch (a kube-proxy-like L4
//   balancer: established connections stay where they are, new ones go to
//   the current target) from pod A to pod B; how long until B serves 50 %
//   and 95 % of the requests, per age. Without max age: never.
//
// Short ages make both visible in seconds; the default's numbers follow from
// them (cost scales with 1 / age, follow time with age). Record in
// docs/benchmarks.md.
//   node --import tsx bench/max-age.ts [-- --connections 200 --think 20 --duration 6 --rounds 3]
import { execFileSync } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import http from 'node:http'
import http2 from 'node:http2'
import https from 'node:https'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { parseArgs } from 'node:util'
import { pairedRounds, positiveIntegers, ratioTable, startServer, stopServer, type BenchServer } from './paired.js'

const { values } = parseArgs({
  options: {
    connections: { type: 'string', default: '200' },
    think: { type: 'string', default: '20' },
    duration: { type: 'string', default: '6' },
    rounds: { type: 'string', default: '3' },
    follow: { type: 'string', default: '2000,5000' }
  }
})
const { connections, think, duration, rounds } = positiveIntegers({ connections: values.connections, think: values.think, duration: values.duration, rounds: values.rounds })
const followAges = values.follow.split(',').map(Number)

const dir = mkdtempSync(join(tmpdir(), 'fzd-bench-age-'))
const key = join(dir, 'key.pem')
const cert = join(dir, 'cert.pem')
execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost'], { stdio: 'ignore' })
process.on('exit', () => { rmSync(dir, { recursive: true, force: true }) })
const TLS_ENV = { BENCH_TLS_KEY: key, BENCH_TLS_CERT: cert }

type Protocol = 'h1' | 'h1tls' | 'h2tls'
const PROTOCOLS: readonly Protocol[] = (process.env.BENCH_PROTOCOLS?.split(',') as Protocol[] | undefined) ?? ['h1', 'h1tls', 'h2tls']

/** One request on behalf of one client loop: resolves with the body, rejects on anything but a 200. */
type Send = () => Promise<string>

/** A client loop's way to send, over a pooled HTTP/1.1 agent or its own reconnecting h2 session. */
function sender (protocol: Protocol, port: number, agent: http.Agent): Send {
  if (protocol !== 'h2tls') {
    const get = protocol === 'h1' ? http.get : https.get
    return async () => await new Promise((resolve, reject) => {
      const req = get({ host: '127.0.0.1', port, path: '/who', agent, rejectUnauthorized: false }, (res) => {
        let body = ''
        res.on('data', (c: Buffer) => { body += String(c) })
        res.on('end', () => { if (res.statusCode === 200) resolve(body); else reject(new Error(`status ${String(res.statusCode)}`)) })
      })
      req.on('error', reject)
    })
  }
  // A gRPC-style client: one session, replaced once the server said GOAWAY.
  let session: http2.ClientHttp2Session | undefined
  return async () => {
    if (session === undefined || session.closed || session.destroyed) {
      const s = session = http2.connect(`https://127.0.0.1:${port}`, { rejectUnauthorized: false })
      s.on('goaway', () => { if (session === s) session = undefined })
      s.on('error', () => {})
    }
    const req = session.request({ ':path': '/who' })
    return await new Promise((resolve, reject) => {
      let body = ''
      let status: unknown
      req.on('response', (h) => { status = h[':status'] })
      req.on('data', (c: Buffer) => { body += String(c) })
      req.on('end', () => { if (status === 200) resolve(body); else reject(new Error(`status ${String(status)}`)) })
      req.on('error', reject)
    })
  }
}

/** Set to end the running load early (the follow runs end a fixed time after their switch). */
let stopLoad = false

interface Load { ok: number, failed: number, byServer: Map<string, number[]> }

/**
 * `connections` closed loops for `seconds`; each answer is counted per server
 * (pid) and per `bucketMs` of time. `connected` is called once every loop had
 * its first answer (every connection open).
 */
async function load (protocol: Protocol, port: number, seconds: number, connected?: (atMs: number) => void, bucketMs = 250): Promise<Load> {
  let first = 0
  const agent = new (protocol === 'h1' ? http.Agent : https.Agent)({ keepAlive: true, maxSockets: connections })
  const started = Date.now()
  const until = started + seconds * 1000
  const result: Load = { ok: 0, failed: 0, byServer: new Map() }
  const sessions: Send[] = Array.from({ length: connections }, () => sender(protocol, port, agent))
  await Promise.all(sessions.map(async (send, i) => {
    await sleep((i * think) / connections)
    let answered = false
    while (Date.now() < until && !stopLoad) {
      try {
        const who = await send()
        result.ok++
        if (!answered) {
          answered = true
          if (++first === connections) connected?.(Date.now() - started)
        }
        const bucket = Math.floor((Date.now() - started) / bucketMs)
        const counts = result.byServer.get(who) ?? []
        counts[bucket] = (counts[bucket] ?? 0) + 1
        result.byServer.set(who, counts)
      } catch (err) {
        result.failed++
        if (process.env.BENCH_DEBUG !== undefined) process.stderr.write(`${String(err)}\n`)
      }
      await sleep(think)
    }
  }))
  agent.destroy()
  return result
}

async function serverStats (server: BenchServer): Promise<{ cpuMicros: number, connections: number }> {
  const reply = once(server.child, 'message') as Promise<[{ cpuMicros: number, connections: number }]>
  server.child.send('cpu')
  return (await reply)[0]
}

// ---- cost: CPU per request and per reconnect, ages off / 1 s / 5 s ----
const COST_AGES = [0, 1000, 5000] as const
interface CostSample { cpuMicrosPerRequest: number, requests: number, reconnects: number, cpuMicros: number, failed: number }
type CaseId = `${Protocol}-${typeof COST_AGES[number]}`
const ids = PROTOCOLS.flatMap((p) => COST_AGES.map((a): CaseId => `${p}-${a}`))

async function measure (id: CaseId): Promise<CostSample> {
  const [protocol, age] = id.split('-') as [Protocol, string]
  const server = await startServer(`age-${protocol}`, { ...TLS_ENV, BENCH_MAX_AGE_MS: age })
  try {
    await load(protocol, server.port, 1) // JIT warm-up, connections open
    const before = await serverStats(server)
    const r = await load(protocol, server.port, duration)
    const after = await serverStats(server)
    const cpuMicros = after.cpuMicros - before.cpuMicros
    return { cpuMicrosPerRequest: cpuMicros / r.ok, requests: r.ok, reconnects: after.connections - before.connections, cpuMicros, failed: r.failed }
  } finally {
    await stopServer(server)
  }
}

const results = await pairedRounds(ids, rounds, measure, (id, s) =>
  `${id}: ${s.requests} requests, ${s.reconnects} new connections, ${s.cpuMicrosPerRequest.toFixed(1)} µs CPU/request, ${s.failed} failed`)
const failed = results.reduce((n, r) => n + Object.values<CostSample>(r).reduce((m, s) => m + s.failed, 0), 0)

/** µs of server CPU per reconnect: the CPU above what the same requests cost with max age off, over the connections opened. */
function perReconnect (aged: CostSample, off: CostSample): number {
  return (aged.cpuMicros - off.cpuMicrosPerRequest * aged.requests) / Math.max(1, aged.reconnects - off.reconnects)
}
const title = `${connections} connections, ${think} ms think time, ${duration} s per case, ${rounds} rounds, Node ${process.version}; ${failed} failed requests`
process.stdout.write(ratioTable(`Connection max age, cost: ${title}`, results, PROTOCOLS.flatMap((p): Array<readonly [string, (r: Record<CaseId, CostSample>) => number]> => [
  [`${p}: server CPU per request, age 1 s / off`, (r) => r[`${p}-1000`].cpuMicrosPerRequest / r[`${p}-0`].cpuMicrosPerRequest],
  [`${p}: server CPU per request, age 5 s / off`, (r) => r[`${p}-5000`].cpuMicrosPerRequest / r[`${p}-0`].cpuMicrosPerRequest],
  [`${p}: µs of server CPU per reconnect (age 1 s)`, (r) => perReconnect(r[`${p}-1000`], r[`${p}-0`])],
  [`${p}: new connections per connection per second (age 1 s)`, (r) => r[`${p}-1000`].reconnects / connections / duration]
])))

// ---- follow: through an L4 switch, from pod A to pod B ----
/** A kube-proxy-like balancer: each new connection goes to the current target, established ones stay. */
async function l4Switch (target: { port: number }): Promise<{ port: number, close: () => void }> {
  const sockets = new Set<net.Socket>()
  const server = net.createServer((client) => {
    const upstream = net.connect(target.port, '127.0.0.1')
    for (const s of [client, upstream]) { sockets.add(s); s.on('close', () => sockets.delete(s)); s.on('error', () => { client.destroy(); upstream.destroy() }) }
    client.pipe(upstream).pipe(client)
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return { port: (server.address() as net.AddressInfo).port, close: () => { for (const s of sockets) s.destroy(); server.close() } }
}

/** Seconds after the switch until B's share of a 250 ms bucket first reaches `share` (and stays there for the next 2). */
function followSeconds (r: Load, b: string, switchBucket: number, share: number): number | undefined {
  const buckets = Math.max(...[...r.byServer.values()].map((c) => c.length))
  const shareAt = (i: number): number => {
    let total = 0
    for (const c of r.byServer.values()) total += c[i] ?? 0
    return total === 0 ? 0 : (r.byServer.get(b)?.[i] ?? 0) / total
  }
  for (let i = switchBucket; i < buckets - 2; i++) {
    if (shareAt(i) >= share && shareAt(i + 1) >= share && shareAt(i + 2) >= share) return (i - switchBucket) * 0.25
  }
  return undefined
}

const rows: string[] = []
for (const protocol of PROTOCOLS) {
  for (const age of [0, ...followAges]) {
    const a = await startServer(`age-${protocol}`, { ...TLS_ENV, BENCH_MAX_AGE_MS: String(age) })
    const b = await startServer(`age-${protocol}`, { ...TLS_ENV, BENCH_MAX_AGE_MS: String(age) })
    const target = { port: a.port }
    stopLoad = false
    const sw = await l4Switch(target)
    try {
      // The switch comes 1 s after every connection is open (a saturated
      // machine takes a while to complete many TLS handshakes), and the run
      // lasts 1.5 ages (at least 6 s) after it.
      const observeS = Math.max(6, (age / 1000) * 1.5 + 2)
      let switchedAtMs = Number.POSITIVE_INFINITY
      let switched!: () => void
      const switchDone = new Promise<void>((resolve) => { switched = resolve })
      const running = load(protocol, sw.port, 60 + observeS, (atMs) => {
        setTimeout(() => { target.port = b.port; switchedAtMs = atMs + 1000; switched() }, 1000)
      })
      await switchDone
      const r = await Promise.race([running, sleep(observeS * 1000).then(async () => { stopLoad = true; return await running })])
      const bPid = String(b.child.pid)
      const switchBucket = Math.ceil(switchedAtMs / 250)
      const fmt = (s: number | undefined): string => s === undefined ? `never (${observeS} s)` : `${s.toFixed(2)} s`
      const row = `| ${protocol} | ${age === 0 ? 'off' : `${age / 1000} s`} | ${fmt(followSeconds(r, bPid, switchBucket, 0.5))} | ${fmt(followSeconds(r, bPid, switchBucket, 0.95))} | ${r.failed} |`
      process.stderr.write(`${row}\n`)
      rows.push(row)
    } finally {
      sw.close()
      await stopServer(a)
      await stopServer(b)
    }
  }
}
process.stdout.write([
  `Connection max age, traffic follows a switch (L4, established connections pinned): ${connections} connections, ${think} ms think time`, '',
  '| protocol | max age | B serves 50 % after | B serves 95 % after | failed |', '|---|---|---|---|---|', ...rows, ''
].join('\n'))
