// An app's own shutdown handler, in every shape and position a server.js
// writes it, with the plugin registered too: the handler's shutdown runs to
// its end and the process ends the way it chose (its exit code), while the
// plugin's drain runs inside the handler's app.close(), with the signal's
// drain delay. Issue 27: a `process.once` handler registered before the
// plugin had already removed itself when the plugin looked, so the plugin
// drained in parallel and raised SIGTERM again in the middle of the app's
// shutdown. Real child processes, real signals.
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { spawnPod, type LogLine } from './fixtures/drain/harness.js'

const FIXTURE = fileURLToPath(new URL('./fixtures/process/app-handler.ts', import.meta.url))
const APP_EXIT_CODE = 7
const SHAPES = ['on', 'once', 'prependListener', 'prependOnceListener', 'addListener']

interface Case {
  SHAPE: string
  WHEN: string
  SIGNAL?: NodeJS.Signals
  APPS?: string
  SIGNAL_EXIT?: string
}

const CASES: Case[] = [
  ...SHAPES.flatMap((SHAPE) => ['before-plugin', 'after-plugin', 'after-listen'].map((WHEN) => ({ SHAPE, WHEN }))),
  { SHAPE: 'close-with-grace', WHEN: 'before-plugin' },
  { SHAPE: 'close-with-grace', WHEN: 'after-plugin' },
  { SHAPE: 'once', WHEN: 'before-plugin', SIGNAL: 'SIGINT' },
  { SHAPE: 'prependOnceListener', WHEN: 'after-listen', SIGNAL: 'SIGINT' },
  { SHAPE: 'once', WHEN: 'before-plugin', SIGNAL_EXIT: 'v3' },
  { SHAPE: 'once', WHEN: 'before-plugin', SIGNAL_EXIT: 'v4' },
  { SHAPE: 'once', WHEN: 'before-plugin', APPS: '2' },
  { SHAPE: 'prependOnceListener', WHEN: 'after-plugin', APPS: '2' }
]

const name = (c: Case): string => [c.SHAPE, c.WHEN, c.SIGNAL, c.APPS === undefined ? '' : `${c.APPS} apps`, c.SIGNAL_EXIT === undefined ? '' : `signal-exit ${c.SIGNAL_EXIT}`].filter(Boolean).join(', ')

const drainLines = (logs: LogLine[], step: string): LogLine[] => logs.filter((l) => l.drain === step)

for (const c of CASES) {
  t.test(`the app's own handler (${name(c)}) ends the process its way; the plugin drains inside its app.close()`, async (t) => {
    const signal = c.SIGNAL ?? 'SIGTERM'
    const pod = await spawnPod({ ...c } as unknown as Record<string, string>, [FIXTURE])
    t.teardown(() => { pod.kill('SIGKILL') })
    pod.kill(signal)
    const exit = await pod.exited
    const code = c.SHAPE === 'close-with-grace' ? 0 : APP_EXIT_CODE
    t.same([exit.code, exit.signal], [code, null], `exit code ${code}, the handler's`)
    t.ok(pod.logs.some((l) => l.msg === 'app shutdown finished'), 'the handler\'s post-close work ran to its end')
    const apps = Number(c.APPS ?? 1)
    // Outside Kubernetes a Ctrl-C drains without the delay.
    const delayMs = signal === 'SIGINT' ? 0 : 100
    t.same(drainLines(pod.logs, 'signal').map((l) => [l.reason, l.delayMs]), Array(apps).fill([signal, delayMs]), `each app drained once, like ${signal}`)
    t.same(drainLines(pod.logs, 'stopped').map((l) => l.clean), Array(apps).fill(true), 'clean')
    t.same(drainLines(pod.logs, 'exit'), [], 'the plugin did not end the process')
  })
}

for (const SHAPE of ['once', 'on']) {
  t.test(`a handler (${SHAPE}) registered only after the first SIGTERM gets it once the plugin has drained, and ends the process its way`, async (t) => {
    const pod = await spawnPod({ SHAPE, WHEN: 'after-signal' }, [FIXTURE])
    t.teardown(() => { pod.kill('SIGKILL') })
    pod.kill('SIGTERM')
    const exit = await pod.exited
    t.same([exit.code, exit.signal], [APP_EXIT_CODE, null])
    const order = pod.logs.filter((l) => l.drain === 'stopped' || /^(app shutdown|SIGTERM handed)/.test(l.msg)).map((l) => l.drain ?? l.msg)
    t.same(order, ['stopped', 'SIGTERM handed to the handler registered after it', 'app shutdown: SIGTERM', 'app shutdown finished'],
      'the plugin drained the first SIGTERM, then handed it to the new handler')
    t.match(drainLines(pod.logs, 'signal'), [{ reason: 'SIGTERM', delayMs: 100 }])
    t.same(drainLines(pod.logs, 'exit'), [], 'the plugin did not end the process')
  })
}
