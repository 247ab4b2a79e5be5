// The built-in kustomize subset: each transformer on a small tree, and a clear
// refusal for what it does not support (pipe `kustomize build` instead).
import { join } from 'node:path'
import t from 'tap'
import { stringify } from 'yaml'
import { LintInputError, loadInputs, renderKustomization } from '../src/lint/index.js'
import { strategicMerge } from '../src/lint/kustomize.js'

const noStdin = async (): Promise<string> => ''
type Obj = Record<string, any>

const app = stringify({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web' },
  spec: {
    selector: { matchLabels: { app: 'web' } },
    template: {
      metadata: { labels: { app: 'web' } },
      spec: {
        serviceAccountName: 'web',
        volumes: [{ name: 'cfg', configMap: { name: 'web' } }, { name: 'tls', secret: { secretName: 'web' } }, { name: 'tmp', emptyDir: {} }],
        initContainers: [{ name: 'migrate', image: 'registry.example/web:1.0' }],
        containers: [{
          name: 'web',
          image: 'registry.example/web',
          envFrom: [{ configMapRef: { name: 'web' } }, { secretRef: { name: 'web' } }],
          env: [
            { name: 'A', valueFrom: { configMapKeyRef: { name: 'web', key: 'a' } } },
            { name: 'B', valueFrom: { secretKeyRef: { name: 'web', key: 'b' } } },
            { name: 'C', valueFrom: { configMapKeyRef: { name: 'unrelated', key: 'c' } } },
            { name: 'D', value: 'd' }
          ]
        }, { name: 'proxy', image: 'envoy@sha256:abc' }, { name: 'nameless' }, { name: 'cache', image: 'cache:7' }, { name: 'side', image: 'localhost:5000/side' }]
      }
    }
  }
}) + '---\n' + [
  { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'web' } },
  { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'web' } },
  { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'web' } },
  { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec: { ports: [{ port: 80 }] } },
  { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'web' }, spec: { maxUnavailable: 1, selector: { matchLabels: { app: 'web' } } } },
  { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'loose' }, spec: { maxUnavailable: 1 } },
  { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name: 'web' }, spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, maxReplicas: 3 } },
  { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'once' }, spec: { template: { spec: { containers: [] } } } },
  { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } },
  { kind: 'Widget' }
].map((o) => stringify(o)).join('---\n')

function byKind (objects: Array<{ object: Obj }>, kind: string, name?: string): Obj {
  const found = objects.map((o) => o.object).find((o) => o.kind === kind && (name === undefined || o.metadata?.name === name))
  if (found === undefined) throw new Error(`no ${kind}`)
  return found
}

t.test('transformers: namespace, prefix/suffix with references, labels, annotations, images', async (t) => {
  const dir = t.testdir({
    base: {
      'kustomization.yaml': 'resources: [app.yaml]\n',
      'app.yaml': app
    },
    prod: {
      'kustomization.yml': stringify({
        bases: ['../base'],
        namespace: 'shop',
        namePrefix: 'eu-',
        nameSuffix: '-v2',
        commonLabels: { team: 'a' },
        labels: [{ pairs: { tier: 'front' } }, { pairs: { track: 'x' }, includeTemplates: true }],
        commonAnnotations: { owner: 'me' },
        images: [{ name: 'registry.example/web', newTag: '2.0' }, { name: 'envoy', newName: 'mirror/envoy' }, { name: 'other', digest: 'sha256:def' }, { name: 'cache', digest: 'sha256:012' }, { name: 'localhost:5000/side', newName: 'mirror/side' }]
      })
    }
  })
  const objects = await renderKustomization(join(dir, 'prod'))
  t.ok(objects.every((o) => o.via === join(dir, 'prod') && o.file === join(dir, 'base/app.yaml')))
  const d = byKind(objects, 'Deployment')
  t.equal(d.metadata.name, 'eu-web-v2')
  t.equal(d.metadata.namespace, 'shop')
  t.same(d.metadata.labels, { tier: 'front', track: 'x', team: 'a' })
  t.same(d.metadata.annotations, { owner: 'me' })
  t.same(d.spec.selector.matchLabels, { app: 'web', team: 'a' }, 'labels without includeSelectors leave selectors alone')
  t.same(d.spec.template.metadata.labels, { app: 'web', track: 'x', team: 'a' })
  const pod = d.spec.template.spec
  t.equal(pod.serviceAccountName, 'eu-web-v2')
  t.same(pod.volumes.map((v: Obj) => v.configMap?.name ?? v.secret?.secretName ?? null), ['eu-web-v2', 'eu-web-v2', null])
  t.same(pod.initContainers[0].image, 'registry.example/web:2.0')
  t.same(pod.containers.map((c: Obj) => c.image ?? null), ['registry.example/web:2.0', 'mirror/envoy@sha256:abc', null, 'cache@sha256:012', 'mirror/side'])
  t.same(pod.containers[0].envFrom, [{ configMapRef: { name: 'eu-web-v2' } }, { secretRef: { name: 'eu-web-v2' } }])
  t.same(pod.containers[0].env.map((e: Obj) => e.valueFrom?.configMapKeyRef?.name ?? e.valueFrom?.secretKeyRef?.name ?? null), ['eu-web-v2', 'eu-web-v2', 'unrelated', null])
  t.equal(byKind(objects, 'HorizontalPodAutoscaler').spec.scaleTargetRef.name, 'eu-web-v2')
  t.same(byKind(objects, 'Service').spec.selector, { team: 'a' }, 'commonLabels create the Service selector')
  t.same(byKind(objects, 'PodDisruptionBudget', 'eu-web-v2').spec.selector.matchLabels, { app: 'web', team: 'a' })
  t.notOk('selector' in byKind(objects, 'PodDisruptionBudget', 'eu-loose-v2').spec)
  t.same(byKind(objects, 'Job').spec.template.metadata.labels, { track: 'x', team: 'a' })
  t.notOk('selector' in byKind(objects, 'Job').spec, 'a Job gets no selector')
  t.notOk('namespace' in byKind(objects, 'Namespace').metadata, 'cluster-scoped objects get no namespace')
  t.equal(byKind(objects, 'Widget').metadata.name, 'eu--v2')
})

t.test('strategic-merge patches: by target, by the patch\'s own kind and name, from files', async (t) => {
  const dir = t.testdir({
    'kustomization.yaml': stringify({
      resources: ['app.yaml'],
      patchesStrategicMerge: ['scale.yaml'],
      patches: [
        { path: 'containers.yaml' },
        { target: { kind: 'Deployment' }, patch: stringify({ metadata: { name: 'ignored' }, spec: { minReadySeconds: 7 } }) },
        { target: { kind: 'HorizontalPodAutoscaler', name: 'web' }, patch: 'spec:\n  minReplicas: 3\n' }
      ]
    }),
    'app.yaml': app,
    'scale.yaml': stringify({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' }, spec: { replicas: 3 } }),
    'containers.yaml': stringify({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web' },
      spec: {
        template: {
          spec: {
            serviceAccountName: null,
            volumes: [{ name: 'tmp', $patch: 'delete' }, { name: 'gone', $patch: 'delete' }, { name: 'cache', emptyDir: {} }],
            containers: [{ name: 'web', ports: [{ containerPort: 80 }] }, { name: 'proxy', $patch: 'delete' }, { name: 'sidecar', image: 'side:1' }]
          }
        }
      }
    })
  })
  const objects = await renderKustomization(dir)
  const d = byKind(objects, 'Deployment')
  t.equal(d.spec.replicas, 3)
  t.equal(d.spec.minReadySeconds, 7)
  t.equal(d.metadata.name, 'web', 'a targeted patch does not rename')
  t.notOk('serviceAccountName' in d.spec.template.spec, 'null deletes')
  t.same(d.spec.template.spec.volumes.map((v: Obj) => v.name), ['cfg', 'tls', 'cache'])
  t.same(d.spec.template.spec.containers.map((c: Obj) => c.name), ['web', 'nameless', 'cache', 'side', 'sidecar'])
  t.same(d.spec.template.spec.containers[0].ports, [{ containerPort: 80 }])
  t.equal(byKind(objects, 'HorizontalPodAutoscaler').spec.minReplicas, 3)
})

t.test('strategicMerge replaces lists that are not lists of named items', async (t) => {
  t.same(strategicMerge({ a: [1, 2], b: [{ x: 1 }] }, { a: [3], b: [{ y: 2 }] }), { a: [3], b: [{ y: 2 }] })
  t.same(strategicMerge([{ name: 'a' }], []), [])
  t.same(strategicMerge('x', { y: 1 }), { y: 1 })
})

t.test('what the renderer does not support is refused with a way out', async (t) => {
  const cases: Array<[Record<string, string>, RegExp]> = [
    [{ 'kustomization.yaml': 'components: [../c]\n' }, /field "components" is not supported by the built-in renderer; run `kustomize build .* \| fastify-zero-downtime-kit lint -`/],
    [{ 'kustomization.yaml': 'resources: [https://github.com/x/y]\n' }, /must be a local file or directory/],
    [{ 'kustomization.yaml': 'resources: [{ a: 1 }]\n' }, /must be a local file or directory/],
    [{ 'kustomization.yaml': 'resources: [missing.yaml]\n' }, /resource missing.yaml not found/],
    [{ 'kustomization.yaml': '- just a list\n' }, /not a kustomization/],
    [{ 'kustomization.yaml': 'resources: [a.yaml]\npatches: [{ path: p.yaml }]\n', 'a.yaml': app, 'p.yaml': '- op: replace\n  path: /spec/replicas\n  value: 2\n' }, /only strategic-merge patches are supported/],
    [{ 'kustomization.yaml': 'resources: [a.yaml]\npatches: [{ target: { kind: Deployment } }]\n', 'a.yaml': app }, /a patch needs `path` or `patch`/],
    [{ 'kustomization.yaml': 'resources: [a.yaml]\npatches: [3]\n', 'a.yaml': app }, /each patch must be a path or an object/],
    [{ 'kustomization.yaml': 'resources: [a.yaml]\npatches: [{ target: { kind: Ingress }, patch: "spec: {}" }]\n', 'a.yaml': app }, /patch for Ingress\/\* matches no resource/],
    [{ 'kustomization.yaml': 'resources: [a.yaml]\npatchesStrategicMerge: [p.yaml]\n', 'a.yaml': app, 'p.yaml': 'kind: Deployment\nmetadata: { name: api }\n' }, /patch for Deployment\/api matches no resource/]
  ]
  for (const [files, message] of cases) {
    const dir = t.testdir(files)
    await t.rejects(renderKustomization(dir), message)
  }
  await t.rejects(renderKustomization(t.testdir({})), /no kustomization\.yaml/)
  // A patch file that is not there, or is not a file, is the user's input: a LintInputError naming it (exit 2), not a crash.
  await t.rejects(renderKustomization(t.testdir({ 'kustomization.yaml': 'resources: [a.yaml]\npatches: [{ path: missing.yaml }]\n', 'a.yaml': app })), { name: 'LintInputError', message: /patch missing\.yaml not found/ })
  await t.rejects(renderKustomization(t.testdir({ 'kustomization.yaml': 'resources: [a.yaml]\npatchesStrategicMerge: [d]\n', 'a.yaml': app, d: {} })), { name: 'LintInputError', message: /patch d cannot be read \(EISDIR\)/ })
  await t.rejects(renderKustomization(t.testdir({ 'kustomization.yaml': 'resources: [a.yaml]\n', 'a.yaml': 'a: [' })), LintInputError)
})

t.test('directories: kustomizations are units, loose files in one folder are one unit, in walk order', async (t) => {
  const dir = t.testdir({
    'a.yaml': 'kind: ConfigMap\nmetadata: { name: a }\n---\n# only a comment\n---\n- not an object\n',
    'b.yml': 'kind: List\nitems:\n  - kind: Secret\n    metadata: { name: b }\n  - not an object\n',
    'notes.txt': 'ignored',
    app: { Kustomization: 'resources: [x.yaml]\n', 'x.yaml': 'kind: ConfigMap\nmetadata: { name: x }\n' },
    nested: { deeper: { 'c.yaml': 'kind: ConfigMap\nmetadata: { name: c }\n' } }
  })
  const units = await loadInputs([dir, join(dir, 'a.yaml')], noStdin)
  t.same(units.map((u) => [u.source.replace(dir, '.'), u.objects.map((o) => String((o.object.metadata as Obj).name))]), [
    ['.', ['a', 'b']],
    ['./app', ['x']],
    ['./nested/deeper', ['c']],
    ['./a.yaml', ['a']]
  ])
  const fromList = units[0]?.objects[1]
  t.equal(fromList?.line, undefined, 'objects inside a List carry no line numbers')
  t.equal(units[0]?.objects[0]?.line?.(['metadata', 'name']), 2)
  t.equal(units[0]?.objects[0]?.line?.(['spec', 'missing']), 1, 'a missing field points at its nearest ancestor')
})
