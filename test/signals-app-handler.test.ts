// An app's own shutdown handler, in every shape and position a server.js
// writes it (`process.on` / `once` / `prependListener` /
// `prependOnceListener` / `addListener`; before the plugin, after it, after
// listen), with the plugin registered too: the handler's shutdown runs to
// its end and the process ends the way it chose (its exit code), while the
// plugin's drain runs inside the handler's app.close(), with the signal's
// drain delay. Issue 27: a `process.once` handler registered before the
// plugin had already removed itself when the plugin looked, so the plugin
// drained in parallel and raised SIGTERM again in the middle of the app's
// shutdown. Real child processes, real signals; the other shapes
// (close-with-grace, SIGINT, signal-exit, two apps, after the first signal)
// are in signals-app-handler-variants.test.ts.
import t from 'tap'
import { assertHandlerEndsTheProcess, caseName } from './fixtures/process/app-handler-cases.js'

for (const SHAPE of ['on', 'once', 'prependListener', 'prependOnceListener', 'addListener']) {
  for (const WHEN of ['before-plugin', 'after-plugin', 'after-listen']) {
    const c = { SHAPE, WHEN }
    t.test(`the app's own handler (${caseName(c)}) ends the process its way; the plugin drains inside its app.close()`, async (t) => {
      await assertHandlerEndsTheProcess(t, c)
    })
  }
}
