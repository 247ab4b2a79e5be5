// Each rule fires on its broken fixture (test/fixtures/manifests/<rule>.yaml,
// the clean set with one mistake) and on nothing else; the clean fixture and
// our own k8s/ give no finding.
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { stringify } from 'yaml'
import { lint, LINT_DEFAULTS, loadInputs, parseManifests, resolveLintOptions, RULES } from '../src/lint/index.js'
import type { Finding, LintOptions } from '../src/lint/index.js'

const root = join(import.meta.dirname, '..')
const fixtures = join(root, 'test/fixtures/manifests')
// k8s/ and the kustomize renderings belong to the repository (the plugin package).
const repo = join(root, '..')
const noStdin = async (): Promise<string> => { throw new Error('no stdin in this test') }

function lintText (text: string, options: LintOptions = LINT_DEFAULTS): Finding[] {
  return lint([{ source: 'inline', objects: parseManifests(text, 'inline.yaml') }], options)
}

function rulesOf (findings: readonly Finding[]): string[] {
  return [...new Set(findings.map((f) => f.rule))].sort()
}

t.test('each rule fires on its broken fixture and nowhere else', async (t) => {
  const files = readdirSync(fixtures).filter((f) => f.endsWith('.yaml') && f !== 'clean.yaml')
  t.same(files.map((f) => f.replace(/\.yaml$/, '')).sort(), RULES.map((r) => r.meta.id).sort(), 'one fixture per rule')
  for (const file of files) {
    const findings = lint(await loadInputs([join(fixtures, file)], noStdin))
    t.same(rulesOf(findings), [file.replace(/\.yaml$/, '')], file)
    for (const f of findings) {
      t.ok(f.why.length > 20 && f.fix.length > 10, `${f.rule} explains why and how to fix`)
      t.match(f.object, /^[\w-]+\/\w+\/[\w-]+$/)
      t.type(f.line, 'number', `${f.rule} points at a line`)
    }
  }
})

t.test('the clean fixture and our own k8s/ have no finding', async (t) => {
  t.same(lint(await loadInputs([join(fixtures, 'clean.yaml')], noStdin)), [])
  const units = await loadInputs([join(repo, 'k8s')], noStdin)
  t.same(units.map((u) => u.source.replace(repo + '/', '')), [
    'k8s/base', 'k8s/overlays/blue-green', 'k8s/overlays/canary/canary', 'k8s/overlays/canary/stable',
    'k8s/overlays/canary-gateway-api', 'k8s/overlays/canary-istio'
  ])
  t.same(lint(units), [])
  for (const name of readdirSync(join(repo, 'test/fixtures/kustomize'))) {
    const text = readFileSync(join(repo, 'test/fixtures/kustomize', name), 'utf8')
    t.same(lintText(text), [], `kustomize build output ${name}`)
  }
})

t.test('a finding names the rule, file, line, object and field', async (t) => {
  const [f] = lint(await loadInputs([join(fixtures, 'npm-start.yaml')], noStdin))
  t.match(f, {
    rule: 'npm-start',
    severity: 'error',
    file: join(fixtures, 'npm-start.yaml'),
    object: 'store/Deployment/shop',
    path: 'spec.template.spec.containers[0].command',
    message: 'container web starts with "npm start"'
  })
  const lines = readFileSync(join(fixtures, 'npm-start.yaml'), 'utf8').split('\n')
  t.match(lines[(f?.line ?? 0) - 1], /command:|- npm/)
})

const deployment = (patch: (spec: Record<string, any>) => void = () => {}): string => {
  const d: Record<string, any> = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'api' },
    spec: {
      replicas: 4,
      minReadySeconds: 5,
      strategy: { rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      selector: { matchLabels: { app: 'api' } },
      template: {
        metadata: { labels: { app: 'api' } },
        spec: {
          containers: [{
            name: 'api',
            image: 'api:1.0.0',
            ports: [{ containerPort: 3000 }],
            env: [{ name: 'TERMINATION_GRACE_PERIOD_SECONDS', value: '30' }],
            lifecycle: { preStop: { sleep: { seconds: 5 } } },
            readinessProbe: { httpGet: { path: '/ready', port: 3000 }, timeoutSeconds: 2 },
            livenessProbe: { httpGet: { path: '/health', port: 3000 } }
          }]
        }
      }
    }
  }
  patch(d.spec)
  const pdb = { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'api' }, spec: { maxUnavailable: 1, selector: { matchLabels: { app: 'api' } } } }
  return stringify(d) + '---\n' + stringify(pdb)
}

t.test('rollout strategy edge cases', async (t) => {
  t.same(lintText(deployment()), [], 'baseline is clean')
  // Default maxUnavailable (25 %) rounds down to 0 below 4 replicas, to 1 from 4.
  t.same(rulesOf(lintText(deployment((s) => { s.replicas = 3; delete s.strategy }))), [])
  t.same(rulesOf(lintText(deployment((s) => { delete s.strategy }))), [], '25 % of 4 is a capacity choice')
  t.match(lintText(deployment((s) => { s.strategy.rollingUpdate.maxUnavailable = '50%' }))[0], { rule: 'max-unavailable', message: /2 of 4 pods \(50 %\)/ })
  t.match(lintText(deployment((s) => { s.replicas = 2; delete s.strategy }))[0], undefined, '25 % of 2 rounds down to 0')
  t.same(rulesOf(lintText(deployment((s) => { s.strategy.rollingUpdate.maxUnavailable = 'lots' }))), [], 'an unparseable value is left to the API server')
  t.same(rulesOf(lintText(deployment((s) => { delete s.replicas }))), ['single-replica'], 'replicas default to 1')
  t.same(rulesOf(lintText(deployment((s) => { s.replicas = 0 }))), [], 'scaled to zero on purpose')
  t.same(rulesOf(lintText(deployment((s) => { delete s.template.spec }))), ['no-pdb'].slice(1), 'no pod spec: not a workload to lint')
  t.same(rulesOf(lintText(deployment((s) => { s.minReadySeconds = 'x' }))), ['min-ready-seconds'])
})

t.test('PodDisruptionBudget edge cases', async (t) => {
  const withPdb = (spec: object): string => deployment().replace(/---\n[\s\S]*$/, '---\n' + stringify({ apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'api' }, spec: { ...spec, selector: { matchLabels: { app: 'api' } } } }))
  t.match(lintText(withPdb({ maxUnavailable: 0 })), [{ rule: 'pdb-blocks-eviction', path: 'spec.maxUnavailable' }])
  t.match(lintText(withPdb({ maxUnavailable: '0%' })), [{ rule: 'pdb-blocks-eviction' }])
  t.match(lintText(withPdb({ minAvailable: '100%' })), [{ rule: 'pdb-blocks-eviction', message: /100%/ }])
  t.same(lintText(withPdb({ minAvailable: 3 })), [])
  const orphan = stringify({ apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'x' }, spec: { minAvailable: 2, selector: { matchLabels: { app: 'other' } } } })
  t.same(lintText(orphan), [], 'unknown replica count: numbers are not judged')
  t.match(lintText(stringify({ apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'x' }, spec: { minAvailable: '100%' } })), [{ rule: 'pdb-blocks-eviction', message: /any number of replicas/ }])
})

t.test('probe edge cases', async (t) => {
  const tcpLive = lintText(deployment((s) => { s.template.spec.containers[0].livenessProbe = { tcpSocket: { port: 3000 }, initialDelaySeconds: 15 } }))
  t.same(rulesOf(tcpLive), ['slow-start-without-startup-probe'])
  t.same(rulesOf(lintText(deployment((s) => { s.template.spec.containers[0].livenessProbe = { httpGet: { port: 3000 } } }))), [], 'no path means /')
  t.same(rulesOf(lintText(deployment((s) => { s.template.spec.containers[0].livenessProbe.httpGet.path = '/ready/db' }))), ['liveness-checks-dependencies'])
  t.same(rulesOf(lintText(deployment((s) => { delete s.template.spec.containers[0].readinessProbe.timeoutSeconds }))), ['probe-timeout'], 'default timeoutSeconds is 1')
  t.same(rulesOf(lintText(deployment((s) => { delete s.template.spec.containers[0].livenessProbe }))), [])
  t.same(rulesOf(lintText(deployment((s) => { s.template.spec.containers[0].readinessProbe.timeoutSeconds = 3 }), resolveLintOptions({ checkTimeoutMs: 3000 }))), ['probe-timeout'])
  // Without ports, every container serves; unnamed containers get an index.
  const noPorts = lintText(deployment((s) => { const c = s.template.spec.containers[0]; delete c.ports; delete c.name; delete c.readinessProbe }))
  t.match(noPorts, [{ rule: 'no-readiness-probe', message: 'container #0 has no readiness probe' }])
})

t.test('termination edge cases', async (t) => {
  const c = (f: (c: Record<string, any>, spec: Record<string, any>) => void): Finding[] => lintText(deployment((s) => { f(s.template.spec.containers[0], s) }))
  t.same(rulesOf(c((x) => { x.lifecycle.preStop = { exec: { command: ['/bin/cleanup'] } } })), [], 'a non-sleep hook: no delay known, budget counts no preStop')
  t.same(rulesOf(c((x) => { x.lifecycle.preStop = { exec: { command: 'sleep 5' } } })), [])
  t.same(rulesOf(c((x) => { x.lifecycle.preStop = { exec: { command: ['sleep', '2.5'] } } })), ['prestop-exec-sleep', 'prestop-too-short'])
  t.same(rulesOf(c((x) => { delete x.lifecycle; x.env = [{ name: 'PRESTOP_SLEEP_SECONDS', value: '0' }] })), [], 'in-app delay declared')
  t.same(rulesOf(c((x) => { delete x.lifecycle; x.env = [{ name: 'PRESTOP_SLEEP_SECONDS', value: '5' }] })), ['env-mismatch'])
  t.same(rulesOf(c((x) => { delete x.lifecycle; delete x.env })), ['no-prestop-delay'])
  t.match(c((x) => { x.env[0].value = 'thirty' }), [{ rule: 'env-mismatch', message: 'TERMINATION_GRACE_PERIOD_SECONDS is "thirty" but terminationGracePeriodSeconds is 30' }])
  t.same(rulesOf(c((x) => { x.env[0].value = ' ' })), ['env-mismatch'])
  t.same(rulesOf(c((x) => { x.env = [{ name: 'TERMINATION_GRACE_PERIOD_SECONDS', valueFrom: { fieldRef: { fieldPath: 'x' } } }, { value: 'no name' }] })), [], 'valueFrom is not known statically')
  t.same(rulesOf(c((x, s) => { s.template.spec.terminationGracePeriodSeconds = 60; x.env[0].value = '60' })), [])
  t.same(rulesOf(c((x) => { x.env[0].value = '20' })), ['env-mismatch'], 'the default grace period is 30')
  t.match(lintText(deployment(), resolveLintOptions({ requestTimeoutMs: 30_000 })), [{ rule: 'grace-period-budget', message: /= 42s > terminationGracePeriodSeconds 30s/ }])
  t.same(rulesOf(c((x) => { delete x.lifecycle; x.env.push({ name: 'PRESTOP_SLEEP_SECONDS', value: '0' }) })), [], 'in-app delay 5 s: 5 + 10 + 5 + 2 = 22 fits 30')
})

t.test('container edge cases', async (t) => {
  const c = (f: (c: Record<string, any>) => void): string[] => rulesOf(lintText(deployment((s) => { f(s.template.spec.containers[0]) })))
  t.same(c((x) => { x.command = ['/bin/sh', '-c', 'yarn run serve'] }), ['npm-start'])
  t.same(c((x) => { x.args = ['pnpm', '--silent', 'start'] }), ['npm-start'])
  t.same(c((x) => { x.command = 'npm start' }), [], 'not a list: the API server rejects it')
  t.same(c((x) => { x.command = ['node', 'npm-start.js'] }), [])
  t.same(c((x) => { x.image = 'localhost:5000/api' }), ['mutable-image-tag'], 'a registry port is not a tag')
  t.same(c((x) => { x.image = 'localhost:5000/api:2.0' }), [])
  t.same(c((x) => { x.image = 'api@sha256:abc' }), [])
  t.same(c((x) => { delete x.image }), [])
})

t.test('autoscaler and Service edge cases', async (t) => {
  const hpa = (spec: object): string => '---\n' + stringify({ apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name: 'api' }, spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'api' }, maxReplicas: 5, ...spec } })
  t.same(rulesOf(lintText(deployment((s) => { delete s.replicas }) + hpa({ minReplicas: 2 }))), [])
  t.match(lintText(deployment((s) => { delete s.replicas }) + hpa({ minReplicas: 1 })), [{ rule: 'hpa-min-replicas', object: 'HorizontalPodAutoscaler/api' }])
  const other = lintText(deployment() + '---\n' + stringify({ apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name: 'x', namespace: 'elsewhere' }, spec: { scaleTargetRef: { kind: 'Deployment', name: 'api' } } }))
  t.same(rulesOf(other), [], 'an autoscaler in another namespace scales another Deployment')
  const svc = (selector?: object): string => '---\n' + stringify({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'api' }, spec: selector === undefined ? {} : { selector } })
  t.same(rulesOf(lintText(deployment() + svc())), [], 'no selector: endpoints are managed by hand')
  t.match(lintText(deployment() + svc({ app: 'web' })), [{ rule: 'service-selector-mismatch', message: 'selector app=web matches no pod template (Deployment/api)' }])
  t.same(lintText(svc({ app: 'web' })), [], 'no workload in the unit: nothing to compare with')
  const spread = lintText(deployment((s) => { s.template.spec.topologySpreadConstraints = [{ maxSkew: 1 }] }))
  t.match(spread, [{ rule: 'topology-spread-match-label-keys', message: /spread over \?/ }])
})

t.test('proxy edge cases', async (t) => {
  const vs = stringify({ apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name: 'a' }, spec: { http: [{ timeout: '1m' }, { timeout: '9.5s' }, { timeout: '500ms' }, { timeout: 'soon' }, {}] } })
  t.same(lintText(vs).map((f) => f.path), ['spec.http[1].timeout', 'spec.http[2].timeout'])
  const ing = stringify({ apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'a', annotations: { 'nginx.ingress.kubernetes.io/proxy-send-timeout': '2s', 'nginx.ingress.kubernetes.io/proxy-read-timeout': '3' } } })
  t.same(lintText(ing).map((f) => f.path), ['metadata.annotations["nginx.ingress.kubernetes.io/proxy-read-timeout"]'])
  t.same(lintText(stringify({ apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'a' } })), [])
  const dr = (idleTimeout: string): string => stringify({ apiVersion: 'networking.istio.io/v1', kind: 'DestinationRule', metadata: { name: 'a' }, spec: { trafficPolicy: { connectionPool: { http: { idleTimeout } } } } })
  t.match(lintText(dr('1h30m')), [{ rule: 'proxy-idle-timeout', message: /idleTimeout 1h30m is not shorter/ }])
  t.same(lintText(dr('bad')), [])
  t.same(lintText(dr('80s'), resolveLintOptions({ keepAliveTimeoutMs: 90_000 })), [])
  const cm = (v: string): string => stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a' }, data: { 'upstream-keepalive-timeout': v } })
  t.same(lintText(cm('60')), [])
  t.same(lintText(cm('1m')), [])
  t.same(lintText(stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a' } })), [])
})

t.test('options are validated once and can disable rules', async (t) => {
  t.throws(() => resolveLintOptions({ requestTimeoutMs: -1 }), { code: 'FST_ZD_INVALID_OPTION', message: 'fastify-zero-downtime: lint option "requestTimeoutMs" must be a non-negative number of milliseconds, got -1' })
  t.throws(() => resolveLintOptions({ checkTimeoutMs: Number.NaN }), { code: 'FST_ZD_INVALID_OPTION' })
  t.throws(() => resolveLintOptions({ checkTimeoutMs: '1' as unknown as number }), { code: 'FST_ZD_INVALID_OPTION' })
  t.throws(() => resolveLintOptions({ nope: 1 } as unknown as LintOptions), { code: 'FST_ZD_UNKNOWN_OPTION', message: /unknown lint option "nope" \(known: requestTimeoutMs, / })
  t.throws(() => resolveLintOptions({ disable: ['no-such-rule'] }), { code: 'FST_ZD_INVALID_OPTION', message: /unknown rule "no-such-rule"/ })
  const options = resolveLintOptions({ disable: ['npm-start'], marginMs: 0 })
  t.ok(Object.isFrozen(options))
  t.equal(options.marginMs, 0)
  t.same(lint(await loadInputs([join(fixtures, 'npm-start.yaml')], noStdin), options), [])
  t.same(resolveLintOptions(), LINT_DEFAULTS)
})
