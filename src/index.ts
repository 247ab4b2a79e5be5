export { zeroDowntime as default, zeroDowntime } from './plugin.js'
export { errorCodes, WARNING_CODES, type ErrorCode } from './errors.js'
export type { ZeroDowntime, ZeroDowntimeEvents, ZeroDowntimeListener } from './plugin.js'
export { DEFAULTS, type ZeroDowntimeOptions, type PressureOptions, type ProbePathsOptions, type ResolvedConfig, type ResolvedPaths, type ResolvedPressure } from './plugin-options.js'
export { pgCheck, redisCheck, amqpCheck, type PgQueryable, type RedisPingable, type AmqpConnectionLike, type AmqpChannelLike, type CheckOverrides, type CheckTarget } from './health/dependencies.js'
export type { CheckFunction, CheckSpec, NamedCheckSpec, CheckContext, CheckOutcome, CheckResult, HealthStatus, ResolvedCheck } from './health/types.js'
export type { HealthBody, CheckEntry } from './health/report.js'
export { LIFECYCLE_STATES, type LifecycleState } from './lifecycle.js'
export { ENV } from './env.js'
export { listen, type ListenOptions, type ListenHandle } from './process/index.js'
export {
  endEventStream, closeWebSocket, WS_GOING_AWAY, CLEANUP_PHASES, DRAIN_DEFAULTS, type DrainOptions, type DrainConfig, type DrainReport, type DrainProgress, type DrainRunOptions,
  type CleanupPhase, type CleanupResult, type CutRequest, type ConnectionStats, type ConnectionCounts, type TransportCounts, type Http2Stats, type Http2Counts,
  type GoAwayListener, type EventStreamSink, type ClosableWebSocket, type EndEventStreamOptions
} from './drain/index.js'
export type { TimingBudget, TimingBudgetInput } from './budget.js'
export { fromLoopback, isLoopbackAddress, type DetailPolicy } from './health/trust.js'
export { METRIC_NAMES } from './metrics/index.js'
export { CONNECTION_AGE_DEFAULTS, type ConnectionAgeConfig } from './connection-age/options.js'
export type { MetricsOptions, MetricsRegistry, ResolvedMetrics } from './metrics/options.js'
