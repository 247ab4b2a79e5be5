import { eachContainer, type Rule } from '../context.js'
import { asNumber, asString, get, isRecord } from '../object.js'
import type { KubeObject } from '../types.js'

/** Paths that, by the plugin's conventions or by their name, check dependencies. */
const DEPENDENCY_PATH = /^\/(ready|readyz)(\/|$|\?)|\b(db|database|deps|dependencies|dependency|postgres|pg|mysql|mongo|redis|rabbit|amqp|kafka|upstream)\b/i

function httpGet (probe: unknown): { path: string, port: string } | undefined {
  const action = get(probe, ['httpGet'])
  if (!isRecord(action)) return undefined
  return { path: asString(action.path) ?? '/', port: String(action.port) }
}

export const noReadinessProbe: Rule = {
  meta: {
    id: 'no-readiness-probe',
    severity: 'error',
    why: 'Without a readiness probe a new pod receives traffic as soon as it starts, before it listens, and a draining pod is never taken out on its own.',
    fix: 'Add readinessProbe: httpGet /ready (the plugin answers 503 while starting, draining or when a dependency fails).'
  },
  check (ctx, report) {
    eachContainer(ctx, (w, c) => {
      if (!isRecord(c.container.readinessProbe)) report(w.source, [...c.path, 'readinessProbe'], `container ${c.name} has no readiness probe`)
    })
  }
}

export const livenessSameAsReadiness: Rule = {
  meta: {
    id: 'liveness-same-as-readiness',
    severity: 'error',
    why: 'One endpoint cannot do both jobs: if it checks dependencies, a database blip restarts every pod at once; if it does not, readiness never reports a failed dependency nor the drain.',
    fix: 'Liveness on /health (the process only), readiness on /ready (dependencies and drain).'
  },
  check (ctx, report) {
    eachContainer(ctx, (w, c) => {
      const live = httpGet(c.container.livenessProbe)
      const ready = httpGet(c.container.readinessProbe)
      if (live !== undefined && ready !== undefined && live.path === ready.path && live.port === ready.port) {
        report(w.source, [...c.path, 'livenessProbe', 'httpGet', 'path'], `liveness and readiness both probe ${live.path}`)
      }
    })
  }
}

export const livenessChecksDependencies: Rule = {
  meta: {
    id: 'liveness-checks-dependencies',
    severity: 'error',
    why: 'When a shared dependency (database, cache, broker) blips, a liveness probe that checks it fails on every pod together: the kubelet restarts them all, turning a blip into an outage.',
    fix: 'Point livenessProbe at /health, which checks only the process; keep dependency checks on the readiness probe.'
  },
  check (ctx, report) {
    eachContainer(ctx, (w, c) => {
      const live = httpGet(c.container.livenessProbe)
      if (live === undefined || !DEPENDENCY_PATH.test(live.path)) return
      // Same path as readiness is reported once, by liveness-same-as-readiness.
      const ready = httpGet(c.container.readinessProbe)
      if (ready?.path === live.path && ready.port === live.port) return
      report(w.source, [...c.path, 'livenessProbe', 'httpGet', 'path'], `liveness probes ${live.path}, which checks dependencies`)
    })
  }
}

export const probeTimeout: Rule = {
  meta: {
    id: 'probe-timeout',
    severity: 'warning',
    why: 'A readiness probe whose timeout is not longer than the dependency check timeout times out while the check is still deciding: a slow dependency then looks like a dead pod, and the probe result flaps.',
    fix: 'Set readinessProbe.timeoutSeconds above the check timeout (plugin default 1 s): 2 in k8s/base.'
  },
  check (ctx, report) {
    eachContainer(ctx, (w, c) => {
      const probe = c.container.readinessProbe
      if (!isRecord(probe)) return
      const timeout = asNumber(probe.timeoutSeconds) ?? 1
      if (timeout * 1000 <= ctx.options.checkTimeoutMs) {
        report(w.source, [...c.path, 'readinessProbe', 'timeoutSeconds'], `readiness timeoutSeconds ${timeout} is not longer than the ${ctx.options.checkTimeoutMs} ms check timeout`)
      }
    })
  }
}

export const slowStartWithoutStartupProbe: Rule = {
  meta: {
    id: 'slow-start-without-startup-probe',
    severity: 'warning',
    why: 'A long liveness initialDelaySeconds guesses the start time: too short and slow starts are killed in a loop, too long and a hung pod lives on. Readiness and liveness both wait for a startup probe instead.',
    fix: 'Add startupProbe: httpGet /startup with failureThreshold x periodSeconds covering the slowest start, and drop initialDelaySeconds.'
  },
  check (ctx, report) {
    eachContainer(ctx, (w, c) => {
      const live = c.container.livenessProbe as KubeObject | undefined
      const delay = asNumber(get(live, ['initialDelaySeconds'])) ?? 0
      if (delay >= 10 && !isRecord(c.container.startupProbe)) {
        report(w.source, [...c.path, 'livenessProbe', 'initialDelaySeconds'], `liveness waits ${delay} s and there is no startup probe`)
      }
    })
  }
}
