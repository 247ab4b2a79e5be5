/**
 * Built-in checks for the usual dependencies. They are typed structurally, so
 * pg, ioredis and amqplib stay the app's dependencies, never ours; each takes
 * the client itself or a function returning the current one (for apps that
 * replace a connection after a broker restart).
 */
import { invalidArgument, kindOf } from '../options.js'
import type { CheckContext, CheckSpec } from './types.js'

/** ioredis states in which a command would only wait in the offline queue. */
const REDIS_DOWN = new Set(['reconnecting', 'close', 'end'])

/** A client, or a function returning the current one (undefined while there is none: the check fails). */
export type CheckTarget<T> = T | (() => T | undefined)

/** A `pg` Pool or Client (anything with `query({ text, query_timeout })`). */
export interface PgQueryable {
  query: (config: { text: string, query_timeout?: number }) => Promise<unknown>
}

/** An ioredis client (or anything with `ping()` and, optionally, ioredis' `status`). */
export interface RedisPingable {
  ping: () => Promise<unknown>
  readonly status?: string
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

function requireTarget (target: unknown, factory: string, expected: string): void {
  if (typeof target !== 'function' && (typeof target !== 'object' || target === null)) {
    throw invalidArgument(`${factory}() target`, `${expected} (or a function returning one)`, target, kindOf)
  }
}

/**
 * `SELECT 1` through a pg Pool or Client. The query carries the check's
 * timeout as `query_timeout`, so a hung server makes pg release (and a Pool
 * discard) the connection instead of leaking one per run.
 */
export function pgCheck (target: CheckTarget<PgQueryable>, overrides?: CheckOverrides): CheckSpec {
  requireTarget(target, 'pgCheck', 'a pg Pool or Client')
  return spec('datastore', overrides, async ({ timeoutMs }: CheckContext) => {
    await resolveTarget(target, 'Postgres client').query({ text: 'SELECT 1', query_timeout: timeoutMs })
  })
}

/**
 * `PING` through ioredis. While ioredis is reconnecting it would park the
 * command in its offline queue; the check fails at once instead, naming the
 * connection state, so a dead Redis shows without waiting for the timeout.
 * A client still making its first connection gets its PING queued (bounded by
 * the check's timeout), so a pod is ready as soon as Redis answers.
 */
export function redisCheck (target: CheckTarget<RedisPingable>, overrides?: CheckOverrides): CheckSpec {
  requireTarget(target, 'redisCheck', 'an ioredis client')
  return spec('datastore', overrides, async () => {
    const client = resolveTarget(target, 'Redis client')
    if (typeof client.status === 'string' && REDIS_DOWN.has(client.status)) {
      return { status: 'fail', output: `redis connection is ${client.status}` }
    }
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
  return spec('component', overrides, async () => {
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
