/**
 * Every error a user of the plugin can meet, each with a stable `code` so that
 * code (and a deploy log search) can tell them apart without parsing prose.
 * docs/errors.md lists them in one table; a test keeps the two in step.
 *
 * Made with @fastify/error like Fastify's own: `err.code` is the code,
 * `err instanceof errorCodes.FST_ZD_INVALID_OPTION` works across copies of
 * this module, and option errors stay `instanceof TypeError`. Messages are
 * built by the validation helpers in options.ts, which pass them in whole.
 */
import { createError, type FastifyErrorConstructor } from '@fastify/error'

/** Every message names the package: a deploy log mixes the output of many libraries. */
const PREFIX = 'fastify-zero-downtime: '

/** The message is built by the caller (options.ts words every option error the same way). */
function coded<C extends string> (code: C, Base: ErrorConstructor | TypeErrorConstructor): FastifyErrorConstructor<{ code: C }, [message: string, options?: { cause: unknown }]> {
  return createError<C, [message: string, options?: { cause: unknown }]>(code, `${PREFIX}%s`, undefined, Base)
}

/** A plugin option (or a `listen()` option) has a value outside what it accepts. */
const FST_ZD_INVALID_OPTION = coded('FST_ZD_INVALID_OPTION', TypeError)
/** A key in the options that the plugin does not know: a typo must not fall back to a default. */
const FST_ZD_UNKNOWN_OPTION = coded('FST_ZD_UNKNOWN_OPTION', TypeError)
/** A termination-budget environment variable is set to something else than decimal seconds in range. */
const FST_ZD_INVALID_ENV = coded('FST_ZD_INVALID_ENV', TypeError)
/** A function of the public API was called with a wrong argument (`addCleanup`, `drain()`, `pgCheck`, ...). */
const FST_ZD_INVALID_ARGUMENT = coded('FST_ZD_INVALID_ARGUMENT', TypeError)
/** The drain cannot finish before Kubernetes' SIGKILL: the pod refuses to start. */
const FST_ZD_BUDGET_EXCEEDED = coded('FST_ZD_BUDGET_EXCEEDED', Error)
/** The plugin is registered twice on one instance (or on a parent and a child). */
const FST_ZD_ALREADY_REGISTERED = coded('FST_ZD_ALREADY_REGISTERED', Error)
/** `listen()` was given an app without the plugin. */
const FST_ZD_PLUGIN_REQUIRED = coded('FST_ZD_PLUGIN_REQUIRED', TypeError)
/** @fastify/under-pressure is already registered while the plugin's own load shedding is on. */
const FST_ZD_PRESSURE_CONFLICT = coded('FST_ZD_PRESSURE_CONFLICT', TypeError)
/** The prom-client Registry given as `metrics.registry` already holds the plugin's metrics. */
const FST_ZD_METRICS_CONFLICT = coded('FST_ZD_METRICS_CONFLICT', TypeError)
/** `metrics` is on but prom-client cannot be loaded. */
const FST_ZD_PROM_CLIENT_MISSING = coded('FST_ZD_PROM_CLIENT_MISSING', Error)
/** `addCleanup()` for a phase that has already run in this drain. */
const FST_ZD_CLEANUP_REFUSED = coded('FST_ZD_CLEANUP_REFUSED', Error)

/** The error constructors, by code (like Fastify's `errorCodes`). */
export const errorCodes = Object.freeze({
  FST_ZD_INVALID_OPTION,
  FST_ZD_UNKNOWN_OPTION,
  FST_ZD_INVALID_ENV,
  FST_ZD_INVALID_ARGUMENT,
  FST_ZD_BUDGET_EXCEEDED,
  FST_ZD_ALREADY_REGISTERED,
  FST_ZD_PLUGIN_REQUIRED,
  FST_ZD_PRESSURE_CONFLICT,
  FST_ZD_METRICS_CONFLICT,
  FST_ZD_PROM_CLIENT_MISSING,
  FST_ZD_CLEANUP_REFUSED
})

export type ErrorCode = keyof typeof errorCodes

/**
 * Codes of the warnings the plugin emits with `process.emitWarning` (they are
 * not thrown; listed here so the table in docs/errors.md covers them too).
 */
export const WARNING_CODES = Object.freeze({
  /** `fastify start --close-grace-delay` would exit in the middle of the drain. */
  FST_ZD_CLOSE_GRACE_DELAY: 'FST_ZD_CLOSE_GRACE_DELAY'
} as const)
