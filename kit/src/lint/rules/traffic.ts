import type { Rule } from '../context.js'
import { asString, durationMs, get, records, stringMap } from '../object.js'

const NGINX_TIMEOUTS = ['nginx.ingress.kubernetes.io/proxy-read-timeout', 'nginx.ingress.kubernetes.io/proxy-send-timeout']

export const proxyTimeout: Rule = {
  meta: {
    id: 'proxy-timeout',
    severity: 'warning',
    why: 'A proxy timeout shorter than the service\'s request timeout cuts requests the service would still answer (the client gets a 504), and a drain that waits for them is waiting for nobody.',
    fix: 'Make route timeouts longer than the request timeout (plugin default 10 s; 15s in k8s/overlays).'
  },
  check (ctx, report) {
    const limit = ctx.options.requestTimeoutMs
    const check = (target: Parameters<typeof report>[0], path: Array<string | number>, ms: number | undefined, raw: unknown): void => {
      if (ms !== undefined && ms < limit) report(target, path, `timeout ${String(raw)} is shorter than the ${limit} ms request timeout`)
    }
    for (const vs of ctx.ofKind('VirtualService')) {
      records(get(vs.object, ['spec', 'http'])).forEach((route, i) => { check(vs, ['spec', 'http', i, 'timeout'], durationMs(route.timeout), route.timeout) })
    }
    for (const hr of ctx.ofKind('HTTPRoute')) {
      records(get(hr.object, ['spec', 'rules'])).forEach((rule, i) => {
        const raw = get(rule, ['timeouts', 'request'])
        check(hr, ['spec', 'rules', i, 'timeouts', 'request'], durationMs(raw), raw)
      })
    }
    for (const ing of ctx.ofKind('Ingress')) {
      const annotations = stringMap(get(ing.object, ['metadata', 'annotations']))
      for (const key of NGINX_TIMEOUTS) {
        const raw = annotations[key]
        // ingress-nginx takes plain seconds.
        check(ing, ['metadata', 'annotations', key], raw === undefined || !/^\d+$/.test(raw) ? undefined : Number(raw) * 1000, raw)
      }
    }
  }
}

export const proxyIdleTimeout: Rule = {
  meta: {
    id: 'proxy-idle-timeout',
    severity: 'warning',
    why: 'A proxy that keeps idle upstream connections longer than the service\'s keep-alive timeout sends requests on sockets the service is closing at that instant: the request is reset (Envoy: "upstream connect error or disconnect/reset before headers", a 503). Istio keeps them 1 h by default.',
    fix: 'Set the proxy\'s upstream idle timeout below the service keep-alive timeout (Fastify default 72 s): trafficPolicy.connectionPool.http.idleTimeout: 60s.'
  },
  check (ctx, report) {
    const limit = ctx.options.keepAliveTimeoutMs
    for (const dr of ctx.ofKind('DestinationRule')) {
      const path = ['spec', 'trafficPolicy', 'connectionPool', 'http', 'idleTimeout']
      const raw = get(dr.object, path)
      const ms = raw === undefined ? 3_600_000 : durationMs(raw)
      if (ms !== undefined && ms >= limit) {
        report(dr, path, raw === undefined
          ? `no idleTimeout: Istio keeps idle upstream connections 1h, longer than the ${limit} ms keep-alive timeout`
          : `idleTimeout ${String(raw)} is not shorter than the ${limit} ms keep-alive timeout`)
      }
    }
    for (const cm of ctx.ofKind('ConfigMap')) {
      // ingress-nginx's controller ConfigMap: plain seconds.
      const raw = asString(get(cm.object, ['data', 'upstream-keepalive-timeout']))
      if (raw !== undefined && /^\d+$/.test(raw) && Number(raw) * 1000 >= limit) {
        report(cm, ['data', 'upstream-keepalive-timeout'], `upstream-keepalive-timeout ${raw} s is not shorter than the ${limit} ms keep-alive timeout`)
      }
    }
  }
}
