/**
 * The simulated cluster's network: everything on the loopback interface.
 * Every pod gets HOST=127.0.0.1 and PORT=0, so the kernel picks its port when
 * it binds (nothing can take the port between choosing and binding, as it
 * could with a port the kit chose); the kit reads the port back from the
 * pod's own listening sockets (listening-ports.ts), which needs nothing from
 * the service but to listen on $PORT.
 */
import { listeningSockets } from './listening-ports.js'
import type { PodAddress, PodNetwork } from './pod-network.js'

export const LOOPBACK = '127.0.0.1'

/** A socket bound to every address is reached on loopback. */
const reachable = (host: string): string => host === '0.0.0.0' || host === '::' ? LOOPBACK : host

export const LOOPBACK_NETWORK: PodNetwork = Object.freeze({
  dataPath: 'userspace (pods on 127.0.0.1, the kit\'s relay or proxy on loopback)',
  place: () => Object.freeze({
    env: Object.freeze({ HOST: LOOPBACK, PORT: '0' }),
    // The first candidate that answers the readiness probe becomes the pod's
    // address. A service may run a second server that answers it too (a
    // management port, lightship's own probe server on every address): the
    // sockets bound to the HOST the pod was given come first, as the service
    // was asked to listen there; before, /proc's hash order picked one.
    candidates: async (pid: number): Promise<PodAddress[]> => (await listeningSockets(pid))
      .sort((a, b) => Number(a.host !== LOOPBACK) - Number(b.host !== LOOPBACK))
      .map((s) => ({ host: reachable(s.host), port: s.port }))
  })
})
