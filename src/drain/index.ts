// The drain: SIGTERM to a stopped app without dropping a request.
// See docs/drain.md for the sequence, the timing budget and the timeline.
export { resolveDrainConfig, DRAIN_DEFAULTS, type DrainOptions, type DrainConfig } from './drain-options.js'
export { CLEANUP_PHASES, type CleanupPhase, type CleanupResult } from './cleanup.js'
export type { CutRequest, ConnectionCounts, ConnectionStats } from './connections.js'
export type { TransportCounts } from './transport.js'
export type { Http2Counts, Http2Stats } from './http2-sessions.js'
export {
  endEventStream, closeWebSocket, WS_GOING_AWAY,
  type GoAwayListener, type EventStreamSink, type EndEventStreamOptions, type ClosableWebSocket
} from './long-lived.js'
export {
  installDrain, PROMPT_DRAIN,
  type DrainController, type DrainReport, type DrainRunOptions, type DrainProgress
} from './install.js'
