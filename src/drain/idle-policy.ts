/**
 * Which idle keep-alive connections the drain closes, and when.
 *
 * Closing an idle pooled socket races a client that picks that socket from
 * its pool at the same instant: its request crosses the server's FIN and
 * fails (ECONNRESET / socket hang up). Node's `http.Agent` reuses the socket
 * freed LAST (LIFO) and, without its own `timeout` option, never closes idle
 * sockets nor honours `Keep-Alive: timeout=` (Node 20's `keepSocketAlive`
 * only lowers a timeout that is already set). Its free list is ordered by
 * last use, so the socket it picks next is the most recently used one it has
 * not lost, and the one it reaches last is the least recently used.
 *
 * During a drain every socket the client uses is retired with `Connection:
 * close` (race-free) and leaves its pool, so the client walks DOWN its free
 * list: each request on a draining pod's socket pulls the next one up. In a
 * rolling update several pods drain at once and a client behind one L4
 * balancer (every client has the balancer's address) walks through their
 * sockets at its request rate; the kit measured the walk reaching a pod's
 * idle sockets while the drain was closing them. So this policy, per client
 * address:
 *
 * - closes least recently used first, by the order of each socket's last
 *   request, tracked from before the drain (`lastUse`): the end of the free
 *   list the walk reaches last, so the closing and the walk only meet at the
 *   very last sockets;
 * - holds its closes while the client is walking: while a request arrived on
 *   any connection of that address within `QUIET_SPACINGS` x `spacingMs`, no
 *   new close starts (those sockets are being reached and retire themselves
 *   race-free). Each such request retires a connection (after the endpoint
 *   removal no new ones arrive), so the walk ends by itself; bounded anyway:
 *   a socket is closed once due for another `idleCloseMs`, so a client that
 *   keeps opening connections (no preStop, a proxy) cannot hold the pod;
 * - at most one close in flight: the next socket of that address is closed
 *   only once the client's own close of the previous one arrived (the socket
 *   is gone), or after `spacingMs` for a peer that never answers a FIN
 *   (half-open, a lost packet), which is then destroyed;
 * - none before `idleCloseMs` of idleness (counted by the caller from the
 *   later of its last response and the drain start), which is always later
 *   than the `Keep-Alive: timeout=` hint (see keep-alive-hint.ts), so a
 *   client that honours the hint has closed the socket itself first.
 *
 * The cost: a few round trips per idle socket of one address (loopback to a
 * node-local proxy: well under a millisecond each), `QUIET_SPACINGS` x
 * `spacingMs` after the walk stopped, at most `idleCloseMs` more for an
 * address that keeps sending; a pod whose clients are active still leaves as
 * soon as its last connection retired, which the walk does by itself.
 *
 * `spacingMs` 0 (and `idleCloseMs` 0, the prompt drain of an `app.close()`
 * no signal announced) keeps the old behaviour: every due socket destroyed at
 * once, no hold. The policy owns no timer and reads time only through `now`,
 * so it is tested with a fake clock; the caller schedules the next look.
 */

/**
 * How many `spacingMs` without a request an address needs before its next
 * close (1 s at the default 250 ms): longer than the event-loop stalls of a
 * busy client process, during which it sends nothing and then, all its
 * timers firing at once, reaches deep into its pool.
 */
export const QUIET_SPACINGS = 4

export interface IdleSocket {
  /** The client address (a node-local proxy's address for every client behind it). */
  readonly address: string
  /** Epoch ms from which this socket counts as idle (already the later of its last response and the drain start). */
  readonly idleSince: number
  /** Order of its last request among all connections (higher: used more recently), from before the drain too. */
  readonly lastUse: number
}

export interface IdleClosePolicyOptions {
  readonly idleCloseMs: number
  /** Longest wait for a client's own close before the next close to that address; the quiet an address needs is a multiple of it; 0: all due at once. */
  readonly spacingMs: number
}

export interface IdlePlan<K> {
  /** Half-close now (FIN, keep reading): the client answers with its own close. */
  readonly end: readonly K[]
  /** Destroy now: closed at once (batch mode), or their client never answered the FIN. */
  readonly destroy: readonly K[]
  /** Milliseconds until the next socket is due, an address is quiet, or a close times out; undefined when nothing is pending. */
  readonly nextInMs: number | undefined
}

interface Closing {
  readonly address: string
  readonly since: number
}

interface Candidate<K> {
  readonly key: K
  readonly socket: IdleSocket
  readonly dueAt: number
}

export class IdleClosePolicy<K> {
  readonly #idleCloseMs: number
  readonly #spacingMs: number
  readonly #now: () => number
  /** Sockets half-closed and not gone yet, by key. */
  readonly #closing = new Map<K, Closing>()

  constructor ({ idleCloseMs, spacingMs }: IdleClosePolicyOptions, now: () => number = Date.now) {
    this.#idleCloseMs = idleCloseMs
    this.#spacingMs = idleCloseMs === 0 ? 0 : spacingMs
    this.#now = now
  }

  /** How many half-closed sockets still wait for their client's close. */
  get closing (): number {
    return this.#closing.size
  }

  /**
   * `idle`: every open connection with nothing in flight, including those
   * this policy half-closed already (a key missing from it is gone: its
   * client's close arrived). `lastRequestAt`: per client address, epoch ms
   * of the latest request read from it during the drain.
   */
  plan (idle: ReadonlyMap<K, IdleSocket>, lastRequestAt: ReadonlyMap<string, number> = new Map()): IdlePlan<K> {
    const now = this.#now()
    const end: K[] = []
    const destroy: K[] = []
    let next: number | undefined
    const soonest = (ms: number): void => { next = next === undefined ? ms : Math.min(next, ms) }
    const busy = new Set<string>()
    const timedOut = new Set<K>()
    for (const [key, closing] of this.#closing) {
      if (!idle.has(key)) {
        this.#closing.delete(key)
      } else if (now - closing.since >= this.#spacingMs) {
        this.#closing.delete(key)
        timedOut.add(key)
        destroy.push(key)
      } else {
        busy.add(closing.address)
        soonest(closing.since + this.#spacingMs - now)
      }
    }
    // The due socket used longest ago per free address.
    const oldest = new Map<string, Candidate<K>>()
    for (const [key, socket] of idle) {
      if (this.#closing.has(key) || timedOut.has(key)) continue
      const dueAt = socket.idleSince + this.#idleCloseMs
      if (dueAt > now) {
        soonest(dueAt - now)
      } else if (this.#spacingMs === 0) {
        destroy.push(key)
      } else if (!busy.has(socket.address)) {
        const current = oldest.get(socket.address)
        if (current === undefined || socket.lastUse < current.socket.lastUse) {
          // The one it displaces is due too: it is looked at again once this one is gone.
          if (current !== undefined) soonest(this.#spacingMs)
          oldest.set(socket.address, { key, socket, dueAt })
        } else {
          soonest(this.#spacingMs)
        }
      }
    }
    for (const [address, { key, dueAt }] of oldest) {
      // The client is walking its pool: wait until it is quiet, or the hold's bound.
      const quietAt = (lastRequestAt.get(address) ?? -Infinity) + QUIET_SPACINGS * this.#spacingMs
      const holdUntil = Math.min(quietAt, dueAt + this.#idleCloseMs)
      if (holdUntil > now) {
        soonest(holdUntil - now)
        continue
      }
      this.#closing.set(key, { address, since: now })
      end.push(key)
      soonest(this.#spacingMs)
    }
    return { end, destroy, nextInMs: next }
  }
}
