// The rollout scripts in k8s/scripts: --help, clear failures on bad arguments
// before any cluster access, and the kubectl calls they make, recorded by a
// stand-in kubectl (no cluster here; KUBECTL points the scripts at it).
import { spawnSync } from 'node:child_process'
import { chmodSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import t, { type Test } from 'tap'

const scripts = join(import.meta.dirname, '..', 'k8s', 'scripts')

async function sh (script: string, args: string[], env: Record<string, string> = {}): Promise<{ code: number | null, stdout: string, stderr: string }> {
  const r = spawnSync('bash', [join(scripts, script), ...args], { encoding: 'utf8', env: { ...process.env, KUBECTL: '/nonexistent/kubectl', ...env } })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}

/** A kubectl that logs each call and answers the queries the scripts make. */
function fakeKubectl (t: Test, answers: { version?: string, readyFails?: boolean, endpoints?: string } = {}): { env: Record<string, string>, calls: () => string[] } {
  const dir = t.testdir({
    kubectl: `#!/usr/bin/env bash
echo "$*" >> "$(dirname "$0")/calls.log"
case "$*" in
  *"get service/"*"selector.version"*) printf '%s' "${answers.version ?? 'blue'}" ;;
  *"config view"*) printf '' ;;
  *"get --raw"*) ${answers.readyFails === true ? 'exit 1' : 'echo ok'} ;;
  *"get endpointslices"*) printf '${answers.endpoints ?? 'true\\ntrue\\n'}' ;;
  *"jsonpath={.spec.paused}"*) printf 'true' ;;
  *"rollout status"*) echo "successfully rolled out" ;;
  *"get httproute/"*) printf 'x\nx\n' ;;
  *"get virtualservice/"*) printf 'canary-by-header\nweighted\n' ;;
esac
`
  })
  chmodSync(join(dir, 'kubectl'), 0o755)
  return {
    env: { KUBECTL: join(dir, 'kubectl') },
    calls: () => readFileSync(join(dir, 'calls.log'), 'utf8').trim().split('\n')
  }
}

t.test('--help explains each script and exits 0', async (t) => {
  for (const [script, usage] of [['rollout.sh', /^usage: rollout\.sh <command> <deployment>/], ['blue-green-switch.sh', /^usage: blue-green-switch\.sh \[options\] \[blue\|green\]/], ['canary-weight.sh', /^usage: canary-weight\.sh/]] as const) {
    const r = await sh(script, ['--help'])
    t.equal(r.code, 0, script)
    t.match(r.stdout, usage)
  }
})

t.test('bad arguments fail with exit 2 and a reason, before touching kubectl', async (t) => {
  const cases: Array<[string, string[], RegExp]> = [
    ['rollout.sh', [], /missing command/],
    ['rollout.sh', ['deploy', 'web'], /unknown command 'deploy'/],
    ['rollout.sh', ['watch'], /missing deployment name/],
    ['rollout.sh', ['watch', 'Web_App'], /deployment must be a Kubernetes name/],
    ['rollout.sh', ['watch', 'web', 'extra'], /unexpected argument 'extra'/],
    ['rollout.sh', ['watch', 'web', '--timeout', '10'], /--timeout must be a duration/],
    ['rollout.sh', ['watch', 'web', '--timeout'], /--timeout needs a value/],
    ['rollout.sh', ['undo', 'web', '--to-revision', '0'], /--to-revision must be a positive revision number/],
    ['rollout.sh', ['pause', 'web', '--to-revision', '3'], /--to-revision goes with undo/],
    ['rollout.sh', ['watch', 'web', '-n', 'Prod'], /-n must be a Kubernetes name/],
    ['rollout.sh', ['watch', 'web', '--force'], /unknown option '--force'/],
    ['blue-green-switch.sh', ['purple'], /colour must be blue or green, got 'purple'/],
    ['blue-green-switch.sh', ['blue', 'green'], /colour given twice/],
    ['blue-green-switch.sh', ['--checks', '0'], /--checks must be a number from 1 to 99/],
    ['blue-green-switch.sh', ['--ready-path', 'ready'], /--ready-path must be an absolute URL path/],
    ['blue-green-switch.sh', ['--service'], /--service needs a value/],
    ['canary-weight.sh', ['10'], /choose --istio or --gateway-api/],
    ['canary-weight.sh', ['--istio', '--gateway-api', '10'], /choose one of --istio and --gateway-api/],
    ['canary-weight.sh', ['--istio', '110'], /PERCENT must be a whole number from 0 to 100/],
    ['canary-weight.sh', ['--istio'], /missing PERCENT/],
    ['canary-weight.sh', ['--istio', '5', '6'], /unexpected argument '6'/]
  ]
  for (const [script, args, message] of cases) {
    const r = await sh(script, args)
    t.equal(r.code, 2, `${script} ${args.join(' ')}`)
    t.match(r.stderr, message)
    t.notMatch(r.stderr, /kubectl not found/)
  }
})

t.test('a missing kubectl is named', async (t) => {
  const r = await sh('rollout.sh', ['watch', 'web'])
  t.equal(r.code, 1)
  t.match(r.stderr, /kubectl not found \(set KUBECTL to its path\)/)
})

t.test('rollout.sh undo to a revision resumes a paused rollout, rolls back, then watches', async (t) => {
  const k = fakeKubectl(t)
  const r = await sh('rollout.sh', ['undo', 'deployment/web', '--to-revision', '3', '-n', 'shop', '--timeout', '90s'], k.env)
  t.equal(r.code, 0, r.stderr)
  t.same(k.calls(), [
    '--namespace shop get deployment/web -o jsonpath={.spec.paused}',
    '--namespace shop rollout resume deployment/web',
    '--namespace shop rollout undo deployment/web --to-revision=3',
    '--namespace shop rollout status deployment/web --timeout=90s'
  ])
})

t.test('blue-green-switch.sh checks the new colour, switches, and verifies endpoints', async (t) => {
  const k = fakeKubectl(t)
  const r = await sh('blue-green-switch.sh', ['--checks', '1'], k.env)
  t.equal(r.code, 0, r.stderr)
  t.match(r.stdout, /2 ready endpoints on green; switch back with: blue-green-switch\.sh blue/)
  const calls = k.calls()
  t.match(calls, [
    'config view --minify -o jsonpath={..namespace}',
    'get service/example-service -o jsonpath={.spec.selector.version}',
    'rollout status deployment/example-service-green --timeout=5m',
    'wait --for=condition=Available --timeout=5m deployment/example-service-green',
    'get --raw /api/v1/namespaces/default/services/http:example-service-green:http/proxy/ready',
    'patch service/example-service --type=merge -p {"spec":{"selector":{"version":"green"}}}',
    /get endpointslices -l kubernetes.io\/service-name=example-service/
  ])
})

t.test('blue-green-switch.sh switches nothing when the new colour is not ready', async (t) => {
  const k = fakeKubectl(t, { readyFails: true })
  const r = await sh('blue-green-switch.sh', ['green', '-n', 'shop', '--checks', '1'], k.env)
  t.equal(r.code, 1)
  t.match(r.stderr, /example-service-green answered \/ready with an error \(check 1 of 1\); nothing switched/)
  t.notOk(k.calls().some((c) => c.includes('patch')))
  const same = await sh('blue-green-switch.sh', ['blue'], fakeKubectl(t).env)
  t.equal(same.code, 0)
  t.match(same.stdout, /already sends traffic to blue/)
  const odd = await sh('blue-green-switch.sh', [], fakeKubectl(t, { version: 'red' }).env)
  t.equal(odd.code, 1)
  t.match(odd.stderr, /selects version 'red'; expected blue or green/)
})

t.test('canary-weight.sh patches the weighted route', async (t) => {
  const gw = fakeKubectl(t)
  const r = await sh('canary-weight.sh', ['--gateway-api', '25'], gw.env)
  t.equal(r.code, 0, r.stderr)
  t.equal(gw.calls()[1], 'patch httproute/example-service --type=json -p [{"op":"replace","path":"/spec/rules/1/backendRefs/0/weight","value":75},{"op":"replace","path":"/spec/rules/1/backendRefs/1/weight","value":25}]')
  const istio = fakeKubectl(t)
  const r2 = await sh('canary-weight.sh', ['--istio', '100', '--name', 'shop'], istio.env)
  t.equal(r2.code, 0, r2.stderr)
  t.match(r2.stdout, /shop: stable 0 %, canary 100 %/)
  t.equal(istio.calls()[1], 'patch virtualservice/shop --type=json -p [{"op":"replace","path":"/spec/http/1/route/0/weight","value":0},{"op":"replace","path":"/spec/http/1/route/1/weight","value":100}]')
})
