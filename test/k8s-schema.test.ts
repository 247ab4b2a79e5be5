// Every manifest in k8s/ and every kustomize rendering of it validates against
// the Kubernetes (1.27 OpenAPI), Istio and Gateway API schemas, through the
// ajv validators that kubernetes-models generates from them. The renderings in
// test/fixtures/kustomize were made by kustomize v5.5.0; the built-in renderer
// of the linter must give the same objects.
import { spawnSync } from 'node:child_process'
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { isDeepStrictEqual } from 'node:util'
import t, { type Test } from 'tap'
import { parseAllDocuments } from 'yaml'
import { renderKustomization } from '../kit/src/lint/kustomize.js'

const root = join(import.meta.dirname, '..')
const k8s = join(root, 'k8s')
type Obj = Record<string, any>

function yamlFiles (dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) return yamlFiles(path)
    return /\.ya?ml$/.test(name) ? [path] : []
  })
}

function docs (file: string): Obj[] {
  return parseAllDocuments(readFileSync(file, 'utf8')).map((d) => d.toJS() as Obj).filter((o) => o !== null)
}

/** The package subpath holding the model of an apiVersion: core, apps, policy... from kubernetes-models; CRDs from their packages. */
function modelPath (apiVersion: string, kind: string): string {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') as [string, string] : ['', apiVersion]
  const pkg = group.endsWith('istio.io')
    ? `@kubernetes-models/istio/${group}/${version}`
    : group.endsWith('gateway.networking.k8s.io')
      ? `@kubernetes-models/gateway-api/${group}/${version}`
      : `kubernetes-models/${group === '' ? '' : `${group}/`}${version}`
  return `${pkg}/${kind}`
}

/** The model module for an apiVersion: core, apps, policy... from kubernetes-models; CRDs from their packages. */
async function modelFor (apiVersion: string, kind: string): Promise<new (data: Obj) => { validate: () => void }> {
  const path = modelPath(apiVersion, kind)
  const mod = await import(path.slice(0, path.lastIndexOf('/'))) as Record<string, unknown>
  const model = mod[kind]
  if (typeof model !== 'function') throw new Error(`no schema for ${apiVersion} ${kind}`)
  return model as new (data: Obj) => { validate: () => void }
}

async function validate (t: Test, o: Obj, where: string): Promise<void> {
  const Model = await modelFor(String(o.apiVersion), String(o.kind))
  t.doesNotThrow(() => { new Model(o).validate() }, `${where}: ${o.kind}/${o.metadata?.name} is valid`)
}

const kustomizations = yamlFiles(k8s).filter((f) => /kustomization\.ya?ml$/.test(f))
const manifests = yamlFiles(k8s).filter((f) => !kustomizations.includes(f))
const renderings = readdirSync(join(root, 'test/fixtures/kustomize')).map((f) => join(root, 'test/fixtures/kustomize', f))

t.test('every manifest file under k8s/ validates', async (t) => {
  t.ok(manifests.length >= 10, `found ${manifests.length} manifest files`)
  for (const file of manifests) {
    for (const o of docs(file)) await validate(t, o, relative(root, file))
  }
})

t.test('every kustomize v5 rendering validates', async (t) => {
  t.equal(renderings.length, 6)
  for (const file of renderings) {
    for (const o of docs(file)) await validate(t, o, relative(root, file))
  }
})

t.test('an invalid object is rejected by the same validation (the check can fail)', async (t) => {
  const [deployment] = docs(join(k8s, 'base/deployment.yaml')) as [Obj]
  deployment.spec.template.spec.containers[0].lifecycle.preStop.sleep.seconds = 'five'
  const Model = await modelFor('apps/v1', 'Deployment')
  t.throws(() => { new Model(deployment).validate() }, /seconds must be integer/)
  const route = docs(join(k8s, 'overlays/canary-gateway-api/httproute.yaml'))[0] as Obj
  route.spec.rules[1].backendRefs[0].weight = -1
  const Route = await modelFor('gateway.networking.k8s.io/v1', 'HTTPRoute')
  t.throws(() => { new Route(route).validate() })
  await t.rejects(modelFor('example.com/v1', 'Widget'))
})

t.test('the built-in renderer gives what kustomize v5.5.0 gives, for every kustomization', async (t) => {
  const dirs = kustomizations.map((f) => relative(k8s, join(f, '..')))
  t.same(dirs.sort(), ['base', 'overlays/blue-green', 'overlays/blue-green/blue', 'overlays/blue-green/green', 'overlays/canary-gateway-api', 'overlays/canary-istio', 'overlays/canary/canary', 'overlays/canary/stable'])
  const golden: Record<string, string> = {
    base: 'base', 'overlays/blue-green': 'blue-green', 'overlays/canary/stable': 'canary-stable', 'overlays/canary/canary': 'canary-canary', 'overlays/canary-istio': 'canary-istio', 'overlays/canary-gateway-api': 'canary-gateway-api'
  }
  const key = (o: Obj): string => `${o.kind}/${o.metadata.name}`
  for (const [dir, name] of Object.entries(golden)) {
    const expected = new Map(docs(join(root, 'test/fixtures/kustomize', `${name}.yaml`)).map((o) => [key(o), o]))
    const rendered = (await renderKustomization(join(k8s, dir))).map((o) => o.object)
    t.same(rendered.map(key).sort(), [...expected.keys()].sort(), `${dir}: same objects`)
    for (const o of rendered) t.ok(isDeepStrictEqual(o, expected.get(key(o))), `${dir}: ${key(o)} identical`)
  }
})

t.test('the reference numbers agree with the contract', async (t) => {
  const [deployment] = docs(join(k8s, 'base/deployment.yaml')) as [Obj]
  const spec = deployment.spec
  const pod = spec.template.spec
  const c = pod.containers[0]
  const env = Object.fromEntries(c.env.map((e: Obj) => [e.name, e.value]))
  t.match(spec.strategy, { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } })
  t.ok(spec.minReadySeconds > 0 && spec.progressDeadlineSeconds > 0 && spec.revisionHistoryLimit > 0)
  t.equal(pod.terminationGracePeriodSeconds, 30)
  t.same(c.lifecycle.preStop, { sleep: { seconds: 5 } })
  t.equal(env.TERMINATION_GRACE_PERIOD_SECONDS, '30')
  t.equal(env.PRESTOP_SLEEP_SECONDS, '5')
  t.equal(c.livenessProbe.httpGet.path, '/health')
  t.equal(c.readinessProbe.httpGet.path, '/ready')
  t.equal(c.startupProbe.httpGet.path, '/startup')
  // Check timeout 1 s, refresh interval 2 s: probe at the refresh interval, time out above the check timeout.
  t.equal(c.readinessProbe.periodSeconds, 2)
  t.ok(c.readinessProbe.timeoutSeconds > 1)
  t.match(pod.securityContext, { runAsNonRoot: true })
  t.match(c.securityContext, { readOnlyRootFilesystem: true, allowPrivilegeEscalation: false })
  for (const ts of pod.topologySpreadConstraints) t.same(ts.matchLabelKeys, ['pod-template-hash'])
  const kinds = docs(join(root, 'test/fixtures/kustomize/base.yaml')).map((o) => o.kind).sort()
  t.same(kinds, ['Deployment', 'HorizontalPodAutoscaler', 'PodDisruptionBudget', 'Service', 'ServiceAccount'])
})

t.test('canary routes split 90/10 and route a header to the canary', async (t) => {
  const vs = docs(join(k8s, 'overlays/canary-istio/virtualservice.yaml'))[0] as Obj
  t.same(vs.spec.http[1].route.map((r: Obj) => [r.destination.subset, r.weight]), [['stable', 90], ['canary', 10]])
  t.match(vs.spec.http[0], { match: [{ headers: { 'x-canary': { exact: 'always' } } }], route: [{ destination: { subset: 'canary' } }] })
  const route = docs(join(k8s, 'overlays/canary-gateway-api/httproute.yaml'))[0] as Obj
  t.same(route.spec.rules[1].backendRefs.map((b: Obj) => [b.name, b.weight]), [['example-service-stable', 90], ['example-service-canary', 10]])
  const bg = docs(join(root, 'test/fixtures/kustomize/blue-green.yaml'))
  t.same(bg.filter((o) => o.kind === 'Deployment').map((o) => o.metadata.name).sort(), ['example-service-blue', 'example-service-green'])
  t.equal(bg.find((o) => o.kind === 'Service' && o.metadata.name === 'example-service')?.spec.selector.version, 'blue')
})

t.test('no unknown field: every object type-checks against the models\' TypeScript interfaces', async (t) => {
  // The generated validators accept unknown fields (the API server rejects them
  // with kubectl's strict validation). TypeScript's excess-property check on
  // object literals catches them, a typo in a field name included.
  const objects = [...manifests, ...renderings].flatMap((file) => docs(file).map((o) => ({ o, where: relative(root, file) })))
  const lines = objects.map(({ o, where }, i) =>
    `// ${where}\nexport const o${i}: import('${modelPath(String(o.apiVersion), String(o.kind))}').I${String(o.kind)} = ${JSON.stringify(o)}`)
  const dir = t.testdir()
  const check = (source: string): ReturnType<typeof spawnSync> => {
    writeFileSync(join(dir, 'manifests.ts'), source)
    return spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '--noEmit', '--strict', '--skipLibCheck', '--module', 'nodenext', '--target', 'es2022', join(dir, 'manifests.ts')], { cwd: root, encoding: 'utf8' })
  }
  // One misspelt field on purpose, last, to show the check can fail: it must be the only error.
  const typo = `export const typo: import('kubernetes-models/apps/v1/Deployment').IDeployment = ${JSON.stringify({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'x' }, spec: { minReadySecond: 5, selector: {}, template: {} } })}`
  const result = check([...lines, typo].join('\n'))
  const errors = String(result.stdout).split('\n').filter((l) => l.includes('error TS'))
  t.equal(errors.length, 1, errors.join('\n'))
  t.match(errors[0], /manifests\.ts\(\d+,\d+\): error TS2353: .*minReadySecond.* does not exist in type 'IDeploymentSpec'/, 'only the misspelt field fails')
})
