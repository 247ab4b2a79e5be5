// More shapes of an app's own shutdown handler (see
// signals-app-handler.test.ts): close-with-grace installed before or after
// app.register (it listens with process.once), SIGINT, signal-exit loaded
// too (not an owner), two apps in one process, and a handler registered
// only once the first SIGTERM has arrived. Real child processes, real
// signals.
import t from 'tap'
import { assertHandedOver, assertHandlerEndsTheProcess, caseName, type HandlerCase } from './fixtures/process/app-handler-cases.js'

const CASES: HandlerCase[] = [
  { SHAPE: 'close-with-grace', WHEN: 'before-plugin' },
  { SHAPE: 'close-with-grace', WHEN: 'after-plugin' },
  { SHAPE: 'once', WHEN: 'before-plugin', SIGNAL: 'SIGINT' },
  { SHAPE: 'prependOnceListener', WHEN: 'after-listen', SIGNAL: 'SIGINT' },
  { SHAPE: 'once', WHEN: 'before-plugin', SIGNAL_EXIT: 'v3' },
  { SHAPE: 'once', WHEN: 'before-plugin', SIGNAL_EXIT: 'v4' },
  { SHAPE: 'once', WHEN: 'before-plugin', APPS: '2' },
  { SHAPE: 'prependOnceListener', WHEN: 'after-plugin', APPS: '2' }
]

for (const c of CASES) {
  t.test(`the app's own handler (${caseName(c)}) ends the process its way; the plugin drains inside its app.close()`, async (t) => {
    await assertHandlerEndsTheProcess(t, c)
  })
}

for (const shape of ['once', 'on']) {
  t.test(`a handler (${shape}) registered only after the first SIGTERM gets it once the plugin has drained, and ends the process its way`, async (t) => {
    await assertHandedOver(t, shape)
  })
}
