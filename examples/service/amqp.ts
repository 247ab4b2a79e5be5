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

const RECONNECT_MS = 200

export function connectBroker (url: string, log: FastifyBaseLogger): Broker {
  let live: { connection: ChannelModel, channel: ConfirmChannel } | undefined
  let closed = false
  let timer: NodeJS.Timeout | undefined

  async function attempt (): Promise<void> {
    try {
      const connection = await amqp.connect(url)
      // Without an 'error' listener a broker crash would crash the service.
      connection.on('error', (err: Error) => { log.warn({ err: err.message }, 'AMQP connection error') })
      connection.on('close', () => {
        live = undefined
        if (!closed) reconnectSoon()
      })
      const channel = await connection.createConfirmChannel()
      channel.on('error', (err: Error) => { log.warn({ err: err.message }, 'AMQP channel error') })
      // A channel the broker closed is useless: start over with a fresh connection.
      channel.on('close', () => { connection.close().catch(() => {}) })
      live = { connection, channel }
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'AMQP connection failed; retrying')
      reconnectSoon()
    }
  }

  let pending = attempt()
  function reconnectSoon (): void {
    timer = setTimeout(() => { pending = attempt() }, RECONNECT_MS)
    timer.unref()
  }

  return {
    current: () => live?.connection,
    firstAttempt: pending,
    async publish (queue, body) {
      if (live === undefined) throw new Error('no AMQP connection')
      const { channel } = live
      await channel.assertQueue(queue, { durable: false })
      channel.sendToQueue(queue, Buffer.from(JSON.stringify(body)), { contentType: 'application/json' })
      await channel.waitForConfirms()
    },
    async close () {
      closed = true
      clearTimeout(timer)
      await pending
      await live?.connection.close()
    }
  }
}
