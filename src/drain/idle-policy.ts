/**
 * Which idle keep-alive connections the drain closes, and when.
 *
 * Closing an idle pooled socket races a client that picks that socket from
 * its pool at the same instant: its request crosses the server's FIN and
 * fails (ECONNRESET / socket hang up). Node's `http.Agent` reuses the socket
 * freed LAST (LIFO) and, without its own `timeout` option, never closes idle
 * sockets nor honours `Keep-Alive: timeout=` (Node 20's `keepSocketAlive`
 * only lowers a timeout that is already set). So the socket a client is least
 * likely to pick is the one idle longest: the bottom of its pool. This policy
 * closes, per client address, only that one at a time:
 *
 * - at most one close in flight per client address: the next socket of that
 *   address is closed only once the client's own close of the previous one
 *   arrived (the socket is gone), or after `spacingMs` for a peer that never
 *   answers a FIN (half-open, a lost packet), which is then destroyed;
 * - least recently used first: the socket deepest in a LIFO pool;
 * - none before `idleCloseMs` of idleness (counted by the caller from the
 *   later of its last response and the drain start), which is always later
 *   than the `Keep-Alive: timeout=` hint (see keep-alive-hint.ts), so a
 *   client that honours the hint has closed the socket itself first.
 *
 * Closing all due sockets of an address at once exposes the several deepest
 * sockets of a pool to a burst of requests together; one at a time, only the
 * very deepest is exposed, which a client picks only when every other socket
 * it holds is busy. The cost is a few round trips per idle socket of one
 * address (loopback to a node-local proxy: well under a millisecond each).
 *
 * `spacingMs` 0 (and `idleCloseMs` 0, the prompt drain of an `app.close()`
 * no signal announced) keeps the old behaviour: every due socket destroyed at
 * once. The policy owns no timer and reads time only through `now`, so it is
 * tested with a fake clock; the caller schedules the next look.
 */

export interface IdleSocket {
  /** The client address (a node-local proxy's address for every client behind it). */
  readonly address: string
  /** Epoch ms from which this socket counts as idle (already the later of its last response and the drain start). */
  readonly idleSince: number
}

export interface IdleClosePolicyOptions {
  readonly idleCloseMs: number
  /** Longest wait for a client's own close before the next close to that address; 0: all due at once. */
  readonly spacingMs: number
}

export interface IdlePlan<K> {
  /** Half-close now (FIN, keep reading): the client answers with its own close. */
  readonly end: readonly K[]
  /** Destroy now: closed at once (batch mode), or their client never answered the FIN. */
  readonly destroy: readonly K[]
  /** Milliseconds until the next socket is due or a close times out; undefined when nothing is pending. */
  readonly nextInMs: number | undefined
}

interface Closing {
  readonly address: string
  readonly since: number
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
   * client's close arrived).
   */
  plan (idle: ReadonlyMap<K, IdleSocket>): IdlePlan<K> {
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
    // The one due socket idle longest per free address.
    const oldest = new Map<string, { key: K, idleSince: number }>()
    for (const [key, socket] of idle) {
      if (this.#closing.has(key) || timedOut.has(key)) continue
      const dueIn = socket.idleSince + this.#idleCloseMs - now
      if (dueIn > 0) {
        soonest(dueIn)
      } else if (this.#spacingMs === 0) {
        destroy.push(key)
      } else if (!busy.has(socket.address)) {
        const current = oldest.get(socket.address)
        if (current === undefined || socket.idleSince < current.idleSince) {
          // The one it displaces is due too: it is looked at again once this one is gone.
          if (current !== undefined) soonest(this.#spacingMs)
          oldest.set(socket.address, { key, idleSince: socket.idleSince })
        } else {
          soonest(this.#spacingMs)
        }
      }
    }
    for (const [address, { key }] of oldest) {
      this.#closing.set(key, { address, since: now })
      end.push(key)
      soonest(this.#spacingMs)
    }
    return { end, destroy, nextInMs: next }
  }
}
