/**
 * A pod's place on the network, given by the network layer: what the pod is
 * told (HOST, PORT) and how the kit learns the address it serves on. The
 * loopback network (loopback.ts) puts every pod on 127.0.0.1 with PORT=0 and
 * reads the port back from the process; a network that gives each pod an
 * address of its own (a network namespace per pod, as on a node) hands out a
 * fixed port instead, known before the pod starts.
 */
export interface PodAddress {
  readonly host: string
  readonly port: number
}

export interface PodPlacement {
  /** HOST and PORT for the pod's environment. */
  readonly env: Readonly<{ HOST: string, PORT: string }>
  /**
   * Where the pod (its process `pid`) may be serving, once it listens; the
   * readiness probe keeps the first that answers. Rejects when the network
   * cannot tell at all (then the run fails, saying so).
   */
  candidates (pid: number): Promise<readonly PodAddress[]>
  /** A command the pod's command runs under (its namespace: `unshare --net ...`); none on loopback. */
  readonly launcher?: readonly string[]
}

export interface PodNetwork {
  /** Which data path this is, for the report. */
  readonly dataPath?: string
  place (pod: string): PodPlacement
}

/** `host:port`, with IPv6 hosts in brackets. */
export const formatAddress = (a: PodAddress): string => `${a.host.includes(':') ? `[${a.host}]` : a.host}:${a.port}`
