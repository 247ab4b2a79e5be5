/**
 * Where the process layer keeps what it shares with other modules, under
 * symbols of its own (as pino keeps its private state): nothing here is part
 * of the public handle, and nobody reads a private field out of another
 * module's object.
 *
 * `Symbol.for`, not `Symbol()`: the package ships an ESM and a CommonJS
 * build, and a process may load both (a CommonJS dependency requiring the
 * plugin beside an ESM service importing `listen`). Each build must find the
 * other's process owner on an app, and recognise the other's signal
 * listeners.
 */

/** The app's process owner, decorated on the app by the plugin and found there by `listen()`. */
export const kProcessOwner = Symbol.for('fastify-zero-downtime.process-owner')

/** Marks the plugin's own signal listeners (one per app), so that they are not taken for another owner. */
export const kSignalOwner = Symbol.for('fastify-zero-downtime.signal-owner')

/** Where signal-exit v4 counts its loaded instances (v3 uses `process.__signal_exit_emitter__`). */
export const kSignalExitV4 = Symbol.for('signal-exit emitter')
