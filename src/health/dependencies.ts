/**
 * Built-in checks for the usual dependencies. They are typed structurally, so
 * pg, ioredis and amqplib stay the app's dependencies, never ours; each takes
 * the client itself or a function returning the current one (for apps that
 * replace a connection after a broker restart).
 */
import { invalidArgument, isPlainObject, kindOf, readOptions } from '../options.js'
import type { CheckContext, CheckSpec } from './types.js'

/** ioredis states in which a command would only wait in the offline queue. */
const REDIS_DOWN = new Set(['reconnecting', 'close', 'end'])
/** ioredis states on the way to `ready`: a command would wait in the offline queue until then. */
const REDIS_CONNECTING = new Set(['connecting', 'connect'])

/** A client, or a function returning the current one (undefined while there is none: the check fails). */
export type CheckTarget<T> = T | (() => T | undefined)

/**
 * A `pg` Pool or Client (anything with `query({ text, query_timeout })`).
 * With a Pool's counts, `options.max` and its events (`on`/`removeListener`
 * for `release` and `remove`), the check never waits in the pool's queue
 * behind the app's own queries.
 */
export interface PgQueryable {
  query: (config: { text: string, query_timeout?: number }) => Promise<unknown>
  readonly totalCount?: number
  readonly idleCount?: number
  readonly waitingCount?: number
  readonly options?: { readonly max?: number }
}

/**
 * An ioredis client (or anything with `ping()` and, optionally, ioredis'
 * `status`; with its status events, `once`/`removeListener`, the check waits
 * for the connection instead of queueing a PING in ioredis' offline queue).
 */
export interface RedisPingable {
  ping: () => Promise<unknown>
  readonly status?: string
}

/** The event methods of an EventEmitter, which pg's Pool and ioredis' client are: typed here, checked at run time. */
interface Emitter {
  on: (event: string, listener: (err?: unknown) => void) => unknown
  once: (event: string, listener: () => void) => unknown
  removeListener: (event: string, listener: (err?: unknown) => void) => unknown
}

function isEmitter (value: object): value is Emitter {
  const e = value as Partial<Record<keyof Emitter, unknown>>
  return typeof e.on === 'function' && typeof e.once === 'function' && typeof e.removeListener === 'function'
}

/** An amqplib connection (`amqp.connect()` result). */
export interface AmqpConnectionLike {
  createChannel: () => Promise<{ close: () => Promise<unknown> }>
}

/** An amqplib channel or confirm channel. */
export interface AmqpChannelLike {
  checkExchange: (exchange: string) => Promise<unknown>
}

/** Settings a built-in check lets you override (`critical`, `timeoutMs`, ...). */
export type CheckOverrides = Omit<CheckSpec, 'check'>

function resolveTarget<T> (target: CheckTarget<T>, what: string): T {
  const value = typeof target === 'function' ? (target as () => T | undefined)() : target
  if (value === undefined || value === null) throw new Error(`no ${what} to check`)
  return value
}

function spec (componentType: string, overrides: CheckOverrides | undefined, check: CheckSpec['check']): CheckSpec {
  return Object.freeze({ componentType, ...overrides, check })
}

/** The overrides as plain data (their values are validated with the other options at registration). */
function readOverrides (overrides: unknown, factory: string): CheckOverrides | undefined {
  if (overrides === undefined) return undefined
  const copy = readOptions(overrides, `${factory}() overrides`)
  if (!isPlainObject(copy)) throw invalidArgument(`${factory}() overrides`, 'an object { critical?, liveness?, timeoutMs?, intervalMs?, componentType? }', overrides)
  return copy as CheckOverrides
}

function requireTarget (target: unknown, factory: string, expected: string): void {
  if (typeof target !== 'function' && (typeof target !== 'object' || target === null)) {
    throw invalidArgument(`${factory}() target`, `${expected} (or a function returning one)`, target, kindOf)
  }
}

type PgPool = PgQueryable & Emitter & Required<Pick<PgQueryable, 'totalCount' | 'idleCount' | 'waitingCount'>> & { readonly options: { readonly max: number } }

function isPool (target: PgQueryable): target is PgPool {
  return typeof target.totalCount === 'number' && typeof target.idleCount === 'number' && typeof target.waitingCount === 'number' &&
    typeof target.options?.max === 'number' && isEmitter(target)
}

/** A query now would wait in the pool's queue: every client is busy and no new one may be opened. */
function exhausted (pool: PgPool): boolean {
  return pool.waitingCount > 0 || (pool.idleCount === 0 && pool.totalCount >= pool.options.max)
}

/**
 * Waits, without entering the pool's queue, until the pool can take a query
 * (`free`), or one of its clients finished a query (`answering`: Postgres
 * answers, the pool is only busy). Rejects when neither happens within
 * `waitMs`: a pool whose clients are all held, or stuck on a hung server.
 */
async function poolProgress (pool: PgPool, waitMs: number, signal: AbortSignal): Promise<'free' | 'answering'> {
  if (!exhausted(pool)) return 'free'
  return await new Promise((resolve, reject) => {
    const done = (): void => {
      clearTimeout(timer)
      pool.removeListener('release', released)
      pool.removeListener('remove', removed)
      signal.removeEventListener('abort', aborted)
    }
    // pg-pool emits 'release' before it hands the client on: look once it has.
    const recheck = (): void => { queueMicrotask(() => { if (!exhausted(pool)) { done(); resolve('free') } }) }
    const released = (err?: unknown): void => {
      if (err !== undefined && err !== null) { recheck(); return }
      queueMicrotask(() => { done(); resolve(exhausted(pool) ? 'answering' : 'free') })
    }
    const removed = (): void => { recheck() }
    const aborted = (): void => { done(); reject(signal.reason) }
    const timer = setTimeout(() => {
      done()
      reject(new Error(`pool exhausted: all ${pool.totalCount} of ${pool.options.max} clients in use and none released for ${waitMs} ms, ${pool.waitingCount} requests waiting (the check does not queue behind them)`))
    }, waitMs)
    timer.unref()
    pool.on('release', released)
    pool.on('remove', removed)
    signal.addEventListener('abort', aborted, { once: true })
  })
}

/**
 * `SELECT 1` through a pg Pool or Client. The query carries the check's
 * timeout as `query_timeout`, so a hung server makes pg release (and a Pool
 * discard) the connection instead of leaking one per run. A Pool whose
 * clients are all busy is never queued on: for up to half the timeout the
 * check waits for a free client or for one of the app's queries to finish
 * (Postgres answers, the pool is only busy: that passes), and fails when
 * neither happens.
 */
export function pgCheck (target: CheckTarget<PgQueryable>, overrides?: CheckOverrides): CheckSpec {
  requireTarget(target, 'pgCheck', 'a pg Pool or Client')
  const settings = readOverrides(overrides, 'pgCheck')
  return spec('datastore', settings, async ({ signal, timeoutMs }: CheckContext) => {
    const client = resolveTarget(target, 'Postgres client')
    if (isPool(client) && await poolProgress(client, Math.ceil(timeoutMs / 2), signal) === 'answering') {
      return { status: 'pass', output: `pool busy: all ${client.options.max} clients in use, ${client.waitingCount} requests waiting; Postgres answered one of them (not queued behind them)` }
    }
    await client.query({ text: 'SELECT 1', query_timeout: timeoutMs })
  })
}

/** Waits for an ioredis client on its way to `ready`, without queueing a command; rejects if it closes first. */
async function redisReady (client: Emitter, signal: AbortSignal): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const done = (): void => {
      client.removeListener('ready', ready)
      client.removeListener('close', closed)
      client.removeListener('end', closed)
      signal.removeEventListener('abort', aborted)
    }
    const ready = (): void => { done(); resolve() }
    const closed = (): void => { done(); reject(new Error('redis connection closed before it was ready')) }
    const aborted = (): void => { done(); reject(signal.reason) }
    client.once('ready', ready)
    client.once('close', closed)
    client.once('end', closed)
    signal.addEventListener('abort', aborted, { once: true })
  })
}

/**
 * `PING` through ioredis. While ioredis is reconnecting it would park the
 * command in its offline queue; the check fails at once instead, naming the
 * connection state, so a dead Redis shows without waiting for the timeout.
 * A client on its way to `ready` (its first connection, or a reconnect) is
 * waited for, bounded by the check's timeout, and PINGed once ready: the pod
 * is ready as soon as Redis answers, and nothing waits in the offline queue.
 */
export function redisCheck (target: CheckTarget<RedisPingable>, overrides?: CheckOverrides): CheckSpec {
  requireTarget(target, 'redisCheck', 'an ioredis client')
  const settings = readOverrides(overrides, 'redisCheck')
  return spec('datastore', settings, async ({ signal }: CheckContext) => {
    const client = resolveTarget(target, 'Redis client')
    if (typeof client.status === 'string' && REDIS_DOWN.has(client.status)) {
      return { status: 'fail', output: `redis connection is ${client.status}` }
    }
    if (typeof client.status === 'string' && REDIS_CONNECTING.has(client.status) && isEmitter(client)) await redisReady(client, signal)
    const reply = await client.ping()
    return reply === 'PONG' ? undefined : { status: 'fail', output: 'redis PING did not answer PONG' }
  })
}

/**
 * A broker round trip through amqplib. On a connection it opens and closes a
 * channel; on a channel it passively declares `amq.direct`, which AMQP 0-9-1
 * requires in every vhost (a passive declare of a missing exchange would
 * close the app's channel, so only that one is safe).
 */
export function amqpCheck (target: CheckTarget<AmqpConnectionLike | AmqpChannelLike>, overrides?: CheckOverrides): CheckSpec {
  requireTarget(target, 'amqpCheck', 'an amqplib connection or channel')
  const settings = readOverrides(overrides, 'amqpCheck')
  return spec('component', settings, async () => {
    const client = resolveTarget(target, 'AMQP connection')
    if ('createChannel' in client && typeof client.createChannel === 'function') {
      const channel = await client.createChannel()
      await channel.close()
      return
    }
    if ('checkExchange' in client && typeof client.checkExchange === 'function') {
      await client.checkExchange('amq.direct')
      return
    }
    return { status: 'fail', output: 'amqpCheck target has neither createChannel() nor checkExchange()' }
  })
}
