// `rollout --network`: which data path runs, what stops the kernel path
// before anything starts, and the kernel path's own pieces on throwaway
// namespaces. The kernel path's whole runs are in network-kernel-runs.test.ts.
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import t from 'tap'
import { FIXTURE, io, outDir, report } from './helpers/loadtest.js'
import { rollout } from '../src/cli/rollout.js'
import { ownNamespace, run } from '../src/network/kernel/commands.js'
import { ISOLATIONS, kernelSupport } from '../src/cli/network.js'
import { KernelNode } from '../src/network/kernel/node.js'
import { KernelService, newFlows, tableCounters } from '../src/network/kernel/service.js'

const SHORT = ['--replicas', '1', '--prestop-seconds', '0.3', '--propagation-seconds', '0.2', '--readiness-period-seconds', '0.2', '--steady-seconds', '0.2', '--scale', '0.1', '--no-baseline', '--scenarios', 'hot-loop']

t.test('bad --network, --client-addresses and kernel-only flags on the relay are refused with exit 2', async (t) => {
  for (const [argv, message] of [
    [['--network', 'ebpf'], /--network must be auto, kernel or userspace, got "ebpf"/],
    [['--network', 'kernel', '--client-addresses', '251'], /--client-addresses must be an integer from 1 to 250, got 251/],
    [['--network', 'userspace', '--snat'], /--client-addresses and --snat need the kernel data path/],
    [['--network', 'userspace', '--client-addresses', '2'], /--client-addresses and --snat need the kernel data path/]
  ] as const) {
    const o = io()
    t.equal(await rollout([...argv, '--command', FIXTURE, '--out', await outDir(t)], o), 2, argv.join(' '))
    t.match(o.err(), message)
  }
})

t.test('where the kernel path cannot run: --network kernel stops before starting anything, auto says why in one line and runs on the relay', async (t) => {
  const path = process.env.PATH
  t.teardown(() => { process.env.PATH = path })
  process.env.PATH = '/nonexistent'
  const kernel = io()
  const out = await outDir(t)
  t.equal(await rollout(['--network', 'kernel', ...SHORT, '--command', FIXTURE, '--out', out], kernel), 2)
  t.match(kernel.err(), /--network kernel cannot run here: missing ip \(Debian: iproute2\), nft \(Debian: nftables\), conntrack \(Debian: conntrack\), unshare \(Debian: util-linux\).*Use --network userspace/)
  const auto = io()
  // A command that cannot start ends the run at once: what matters here is the path it ran on.
  t.equal(await rollout([...SHORT, '--command', '/nonexistent/binary', '--out', out], auto), 1)
  t.match(auto.err(), /^network: userspace, because the kernel path cannot run here: missing ip/)
  t.match((await report(out)).runs[0]?.dataPath, /^userspace/)
  t.match(auto.out(), /hot-loop \/ service: data path userspace .*; pods at none \(no pod became ready\)/)
})

t.test('namespaces of our own: the first way that works, or every refusal', async (t) => {
  const path = process.env.PATH as string
  const bogus = { how: 'with a flag unshare does not know', flags: ['--no-such-flag'] }
  const works = await kernelSupport(path, [bogus, ...ISOLATIONS])
  t.match(works, { ok: true, how: 'as root' })
  const none = await kernelSupport(path, [bogus])
  t.match(none, { ok: false, missing: /cannot create network namespaces \(with a flag unshare does not know: unshare --no-such-flag -- true: exit code 1: unshare: unrecognized option '--no-such-flag' Try 'unshare --help' for more information\.\); it needs root/ })
})

t.test('a process that never leaves our network namespace is refused after a bounded wait', async (t) => {
  await t.rejects(ownNamespace(process.pid), new RegExp(`process ${process.pid} did not enter a network namespace of its own within 2000 ms`))
})

t.test('a node that cannot be wired is taken down again and says why', async (t) => {
  // A link name of more than 15 characters is refused before anything is created.
  await t.rejects(KernelNode.start({ prefix: 'a-prefix-far-too-long', clientAddresses: 1, snat: false }), /ip link add a-prefix-far-too-longc .*: exit code/)
})

t.test('the Service table on a throwaway namespace: counters, a refused endpoint update kept as an error, conntrack lines', async (t) => {
  const holder = spawn('unshare', ['--net', '--', 'sleep', 'infinity'], { stdio: 'ignore' })
  const exited = once(holder, 'exit')
  t.teardown(async () => { holder.kill('SIGKILL'); await exited })
  await ownNamespace(holder.pid as number)
  const service = await KernelService.start(holder.pid as number, 'fzt_service', true)
  t.match(await run('nsenter', ['-t', String(holder.pid), '-n', 'nft', 'list', 'table', 'ip', 'fzt_service']), /ct status dnat ip saddr 198\.19\.1\.0\/24 snat (ip )?to 198\.18\.0\.1/, 'SNAT mode masquerades DNAT-ed client flows to the node')
  await service.setEndpoints([{ name: 'web-v1-1', host: '198.18.1.1', port: 8080 }, { name: 'web-v1-2', host: '198.18.1.2', port: 8080 }])
  const listing = await run('nsenter', ['-t', String(holder.pid), '-n', 'nft', 'list', 'chain', 'ip', 'fzt_service', 'service'])
  t.match(listing, /numgen random mod 2 vmap \{ 0 : goto endpoint-web-v1-1, 1 : goto endpoint-web-v1-2 \}/)
  await service.setEndpoints([{ name: 'web-v1-2', host: 'not-an-address', port: 8080 }])
  t.equal(service.endpointErrors.length, 1)
  t.match(service.endpointErrors[0], /nft -f -: exit code 1/)
  t.same(await service.stats(), { connections: 0, noEndpoint: 0, upstreamErrors: 0 })
  t.equal(service.podFor(undefined), undefined)
  await service.close()
  t.equal(await run('nsenter', ['-t', String(holder.pid), '-n', 'nft', 'list', 'tables']), '', 'its table is gone')
  t.same(newFlows('    [NEW] tcp      6 120 SYN_SENT src=198.19.1.2 dst=198.19.0.10 sport=56448 dport=80 [UNREPLIED] src=198.18.1.1 dst=198.18.0.1 sport=8080 dport=56448'), [{ clientPort: 56448, podHost: '198.18.1.1' }])
  t.same(newFlows('conntrack v1.4.7 (conntrack-tools): 3 flow events have been shown.'), [])
  t.same(tableCounters(''), { connections: Number.NaN, noEndpoint: Number.NaN, upstreamErrors: Number.NaN })
})
