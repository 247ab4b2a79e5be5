// Manifests the linter must read without tripping, although Kubernetes would
// complete or refuse them: objects without kind, name or metadata, fields of
// an unexpected type, kustomize transformers meeting objects that lack the
// fields they change; and where an invalid YAML document is.
import t from 'tap'
import { stringify } from 'yaml'
import { lint, LintInputError, parseManifests, renderKustomization } from '../src/lint/index.js'

type Obj = Record<string, any>

const deployment = (over: Obj = {}): Obj => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web' },
  spec: {
    replicas: 3,
    selector: { matchLabels: { app: 'web' } },
    template: {
      metadata: { labels: { app: 'web' } },
      spec: {
        topologySpreadConstraints: [
          { maxSkew: 1, topologyKey: 'zone', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['web'] }] } }
        ],
        containers: [{ name: 'web', image: 'registry.example/web:1.0' }]
      }
    }
  },
  ...over
})

t.test('kustomize transformers on objects that lack what they change', async (t) => {
  const dir = t.testdir({
    'kustomization.yaml': stringify({
      resources: ['app.yaml'],
      namespace: 'shop',
      namePrefix: 'prod-',
      commonLabels: { team: 'a' },
      commonAnnotations: { owner: 'b' },
      images: [{ name: 'registry.example/web', newName: 'mirror.example/web' }]
    }),
    'app.yaml': [
      deployment(),
      { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' } },
      { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name: 'web' }, spec: { scaleTargetRef: { name: 'web' }, minReplicas: 2, maxReplicas: 4 } },
      { apiVersion: 'example.com/v1', spec: { size: 1 } }
    ].map((o) => stringify(o)).join('---\n')
  })
  const [web, svc, hpa, bare] = (await renderKustomization(dir)).map((o) => o.object as Obj)
  t.equal(web?.spec.template.spec.containers[0].image, 'mirror.example/web:1.0', 'a new name alone keeps the tag')
  t.same(web?.spec.template.spec.topologySpreadConstraints[0].labelSelector, { matchExpressions: [{ key: 'app', operator: 'In', values: ['web'] }] },
    'a spread constraint selecting by expressions gets no matchLabels')
  t.same(svc, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'prod-web', namespace: 'shop', labels: { team: 'a' }, annotations: { owner: 'b' } } },
    'a Service without spec is labelled, and gets no selector')
  t.equal(hpa?.spec.scaleTargetRef.name, 'web', 'a scaleTargetRef without kind names nothing that was renamed')
  t.same(bare, { apiVersion: 'example.com/v1', spec: { size: 1 }, metadata: { labels: { team: 'a' }, annotations: { owner: 'b' }, name: 'prod-', namespace: 'shop' } },
    'an object without kind or metadata is given both, as kustomize does')
})

t.test('an object without metadata gets the annotations and namespace alone', async (t) => {
  const dir = t.testdir({
    'kustomization.yaml': stringify({ resources: ['a.yaml'], namespace: 'shop', commonAnnotations: { owner: 'b' } }),
    'a.yaml': stringify({ apiVersion: 'v1', kind: 'ConfigMap', data: { a: '1' } })
  })
  t.same((await renderKustomization(dir)).map((o) => o.object), [{ apiVersion: 'v1', kind: 'ConfigMap', data: { a: '1' }, metadata: { annotations: { owner: 'b' }, namespace: 'shop' } }])
})

t.test('rules read objects without kind or name, and a maxUnavailable of no known form', async (t) => {
  const text = [
    { apiVersion: 'example.com/v1', spec: { replicas: 1 } },
    deployment({ metadata: {}, spec: { ...deployment().spec, strategy: { rollingUpdate: { maxUnavailable: true, maxSurge: 1 } } } }),
    { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name: 'web' }, spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, minReplicas: 1, maxReplicas: 3 } },
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'api' }, spec: { selector: { app: 'api' }, ports: [{ port: 80 }] } }
  ].map((o) => stringify(o)).join('---\n')
  const findings = lint([{ source: 'inline', objects: parseManifests(text, 'inline.yaml') }])
  t.notOk(findings.some((f) => f.rule === 'max-unavailable'), 'a maxUnavailable that is neither a count nor a percentage is not judged')
  t.notOk(findings.some((f) => f.rule === 'single-replica'), 'the HPA of a Deployment named "web" does not scale one without a name')
  const selector = findings.find((f) => f.rule === 'service-selector-mismatch')
  t.match(selector, { object: 'Service/api', message: 'selector app=api matches no pod template (Deployment/)' }, 'a nameless Deployment is shown by its kind alone')
})

t.test('invalid YAML: the file, line and column, and the first line of the reason', async (t) => {
  t.throws(() => parseManifests('kind: Deployment\nmetadata:\n  name: [web\n', 'app.yaml'), { name: 'LintInputError', message: /^app\.yaml:\d+:\d+: invalid YAML: [^\n]+$/ })
  const err = t.throws(() => parseManifests('a: 1\n---\nb: 1\nb: 2\n', 'two.yaml')) as LintInputError
  t.match(err.message, /^two\.yaml:4:1: invalid YAML: Map keys must be unique/, 'the line is counted across documents')
  t.type(err, LintInputError)
})
