import { timingBudget } from 'fastify-zero-downtime/budget'
import { ENV } from 'fastify-zero-downtime'
import { eachContainer, envValues, gracePeriodSeconds, preStopSleep, type Rule } from '../context.js'
import { isRecord } from '../object.js'
import type { KubeObject } from '../types.js'

/** Endpoint removal reaches kube-proxy in about 1 s and some ingress controllers in several. */
const MIN_PRESTOP_SECONDS = 3

/** A container configured for the plugin declares the budget through its environment. */
function usesPlugin (container: KubeObject): boolean {
  const env = envValues(container)
  return env.has(ENV.gracePeriodSeconds) || env.has(ENV.preStopSleepSeconds)
}

export const noPrestopDelay: Rule = {
  meta: {
    id: 'no-prestop-delay',
    severity: 'error',
    why: 'SIGTERM arrives while kube-proxy and the ingress still send new connections to the pod (endpoint removal takes about 1 s, some ingresses several); a server that closes its listener at once refuses them.',
    fix: 'Add lifecycle.preStop.sleep.seconds: 5 (and PRESTOP_SLEEP_SECONDS: "5"), or let the plugin delay in the app: set PRESTOP_SLEEP_SECONDS: "0" and TERMINATION_GRACE_PERIOD_SECONDS.'
  },
  check (ctx, report) {
    eachContainer(ctx, (w, c) => {
      if (isRecord(c.container.lifecycle) && isRecord(c.container.lifecycle.preStop)) return
      if (usesPlugin(c.container)) return
      report(w.source, [...c.path, 'lifecycle', 'preStop'], `container ${c.name} has no preStop delay and no in-app drain delay is declared`)
    })
  }
}

export const prestopExecSleep: Rule = {
  meta: {
    id: 'prestop-exec-sleep',
    severity: 'warning',
    why: '`exec: sleep` needs a shell or a sleep binary in the image: in distroless or scratch images the hook fails at once and the pod gets no delay at all.',
    fix: 'Use the native hook `preStop: {sleep: {seconds: 5}}` (Kubernetes >= 1.30); keep exec only for older clusters with an image that has `sleep`.'
  },
  check (ctx, report) {
    eachContainer(ctx, (w, c) => {
      if (preStopSleep(c.container)?.style === 'exec') report(w.source, [...c.path, 'lifecycle', 'preStop', 'exec'], `container ${c.name} sleeps through exec`)
    })
  }
}

export const prestopTooShort: Rule = {
  meta: {
    id: 'prestop-too-short',
    severity: 'warning',
    why: 'Endpoint removal needs about 1 s to reach kube-proxy and several seconds for some ingress controllers; a shorter preStop lets SIGTERM close the listener while new connections still arrive.',
    fix: `Sleep at least ${MIN_PRESTOP_SECONDS} s (5 in k8s/base), and raise terminationGracePeriodSeconds by the same amount.`
  },
  check (ctx, report) {
    eachContainer(ctx, (w, c) => {
      const sleep = preStopSleep(c.container)
      if (sleep !== undefined && sleep.seconds < MIN_PRESTOP_SECONDS) {
        report(w.source, [...c.path, 'lifecycle', 'preStop'], `preStop sleeps ${sleep.seconds} s`)
      }
    })
  }
}

export const gracePeriodBudget: Rule = {
  meta: {
    id: 'grace-period-budget',
    severity: 'error',
    why: 'The grace countdown starts before preStop; when preStop + drain delay + the longest request + cleanup + margin exceed it, the kubelet SIGKILLs the pod with requests still in flight.',
    fix: 'Raise terminationGracePeriodSeconds (and TERMINATION_GRACE_PERIOD_SECONDS) to the sum, or shorten the preStop sleep or the request timeout.'
  },
  check (ctx, report) {
    const o = ctx.options
    for (const w of ctx.workloads) {
      const grace = gracePeriodSeconds(w)
      for (const c of w.serving) {
        const preStopMs = (preStopSleep(c.container)?.seconds ?? 0) * 1000
        const budget = timingBudget({
          gracePeriodMs: grace * 1000,
          preStopSleepMs: preStopMs,
          // The plugin delays in the app only when no preStop sleep is declared.
          drainDelayMs: preStopMs > 0 ? 0 : o.drainDelayMs,
          requestTimeoutMs: o.requestTimeoutMs,
          cleanupTimeoutMs: o.cleanupTimeoutMs,
          marginMs: o.marginMs
        })
        if (budget.problem !== undefined) report(w.source, [...w.podSpecPath, 'terminationGracePeriodSeconds'], `container ${c.name}: ${budget.problem}`)
      }
    }
  }
}

export const envMismatch: Rule = {
  meta: {
    id: 'env-mismatch',
    severity: 'error',
    why: `The plugin sizes its drain from ${ENV.gracePeriodSeconds} and ${ENV.preStopSleepSeconds}; when they disagree with the pod spec it either waits for a preStop that never ran, or plans past the real SIGKILL.`,
    fix: `Set ${ENV.gracePeriodSeconds} to spec.terminationGracePeriodSeconds and ${ENV.preStopSleepSeconds} to the preStop sleep seconds (0 without preStop).`
  },
  check (ctx, report) {
    eachContainer(ctx, (w, c) => {
      const env = envValues(c.container)
      const expected: Array<[string, number, string]> = [
        [ENV.gracePeriodSeconds, gracePeriodSeconds(w), 'terminationGracePeriodSeconds'],
        [ENV.preStopSleepSeconds, preStopSleep(c.container)?.seconds ?? 0, 'the preStop sleep']
      ]
      for (const [name, want, what] of expected) {
        const got = env.get(name)
        if (got === undefined) continue
        const value = got.value.trim() === '' ? Number.NaN : Number(got.value)
        if (value !== want) {
          report(w.source, [...c.path, 'env', got.index, 'value'], `${name} is ${JSON.stringify(got.value)} but ${what} is ${want}`)
        }
      }
    })
  }
}
