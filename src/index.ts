export { zeroDowntime as default, zeroDowntime } from './plugin.js'
export type { ZeroDowntimeOptions, ZeroDowntime } from './plugin.js'
export { Lifecycle, LIFECYCLE_STATES, type LifecycleState } from './lifecycle.js'
export { ENV } from './env.js'
