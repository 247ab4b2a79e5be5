/**
 * An amqplib connection that comes back: amqplib never reconnects by itself,
 * so a broker restart would otherwise leave the service publishing into a
 * closed connection forever. The health check reads `current()`, so readiness
 * turns 503 while there is no connection and recovers with the next one.
 */
import amqp, { type ChannelModel, type ConfirmChannel } from 'amqplib'
import type { FastifyBaseLogger } from 'fastify'

export interface Broker {
  /** The live connection, or undefined while (re)connecting. */
  current: () => ChannelModel | undefined
  /** Publishes and waits for the broker's confirm; rejects when there is no connection. */
  publish: (queue: string, body: unknown) => Promise<void>
  /** Resolves after the first connection attempt, whether it worked or not. */
  readonly firstAttempt: Promise<void>
  close: () => Promise<void>
}

const RECONNECT_MS = 500

export function connectBroker (url: string, log: FastifyBaseLogger): Broker {
  let connection: ChannelModel | undefined
  let channel: Promise<ConfirmChannel> | undefined
  let closed = false
  let timer: NodeJS.Timeout | undefined

  const reconnectSoon = (): void => {
    if (closed) return
    timer = setTimeout(() => { void attempt() }, RECONNECT_MS)
    timer.unref()
  }

  async function attempt (): Promise<void> {
    try {
      const c = await amqp.connect(url)
      // Without an 'error' listener a broker crash would crash the service.
      c.on('error', (err: Error) => { log.warn({ err: err.message }, 'AMQP connection error') })
      c.on('close', () => {
        connection = undefined
        channel = undefined
        reconnectSoon()
      })
      if (closed) { await c.close(); return }
      connection = c
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'AMQP connection failed; retrying')
      reconnectSoon()
    }
  }

  async function confirmChannel (c: ChannelModel): Promise<ConfirmChannel> {
    channel ??= c.createConfirmChannel().then((ch) => {
      ch.on('error', () => {})
      ch.on('close', () => { channel = undefined })
      return ch
    }, (err: unknown) => {
      channel = undefined
      throw err
    })
    return await channel
  }

  return {
    current: () => connection,
    firstAttempt: attempt(),
    async publish (queue, body) {
      if (connection === undefined) throw new Error('no AMQP connection')
      const ch = await confirmChannel(connection)
      await ch.assertQueue(queue, { durable: false })
      ch.sendToQueue(queue, Buffer.from(JSON.stringify(body)), { contentType: 'application/json' })
      await ch.waitForConfirms()
    },
    async close () {
      closed = true
      clearTimeout(timer)
      await connection?.close().catch(() => {})
    }
  }
}
