// The kube-proxy-like balancer over real sockets: new connections follow the
// endpoints it knows, established ones stay pinned, and nothing to route to
// means a reset.
import { once } from 'node:events'
import { createServer, type Server, type Socket } from 'node:net'
import { connect } from 'node:net'
import t from 'tap'
import { L4Balancer } from '../src/network/l4-balancer.js'

/** A TCP backend that answers each line with its own name. */
async function backend (name: string): Promise<{ server: Server, port: number }> {
  const server = createServer((socket) => {
    socket.setEncoding('utf8')
    socket.on('data', (line: string) => { socket.write(`${name}:${line}`) })
    socket.on('end', () => { socket.end() })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return { server, port: (server.address() as { port: number }).port }
}

async function open (port: number): Promise<Socket> {
  const socket = connect(port, '127.0.0.1')
  socket.setEncoding('utf8')
  await once(socket, 'connect')
  return socket
}

async function ask (socket: Socket, line: string): Promise<string> {
  socket.write(line)
  const [answer] = await once(socket, 'data') as [string]
  return answer
}

t.test('pinning: an established connection stays with its pod after the endpoint is gone', async (t) => {
  const a = await backend('a')
  const b = await backend('b')
  const lb = await L4Balancer.listen()
  t.teardown(async () => { a.server.close(); b.server.close(); await lb.close() })
  lb.setEndpoints([{ name: 'a', host: '127.0.0.1', port: a.port }])
  const first = await open(lb.port)
  t.equal(await ask(first, '1'), 'a:1')
  t.equal(lb.podFor(first.localPort), 'a', 'the balancer knows which pod the client port went to')
  t.equal(lb.podFor(undefined), undefined)
  lb.setEndpoints([{ name: 'b', host: '127.0.0.1', port: b.port }])
  t.equal(await ask(first, '2'), 'a:2', 'old connection still goes to a')
  const second = await open(lb.port)
  t.equal(await ask(second, '3'), 'b:3', 'a new connection goes to b')
  // A client half-close travels to the pod, whose answer (end) comes back.
  first.end()
  await once(first, 'close')
  second.destroy()
  t.equal((await lb.stats()).connections, 2)
})

t.test('no endpoint: new connections are reset; a pod that is gone resets the client', async (t) => {
  const lb = await L4Balancer.listen()
  t.teardown(async () => { await lb.close() })
  const none = connect(lb.port, '127.0.0.1')
  const [err] = await once(none, 'error') as [NodeJS.ErrnoException]
  t.equal(err.code, 'ECONNRESET')
  t.equal((await lb.stats()).noEndpoint, 1)
  const gone = await backend('gone')
  gone.server.close()
  lb.setEndpoints([{ name: 'gone', host: '127.0.0.1', port: gone.port }])
  const refused = connect(lb.port, '127.0.0.1')
  const [err2] = await once(refused, 'error') as [NodeJS.ErrnoException]
  t.equal(err2.code, 'ECONNRESET', 'kube-proxy would give ECONNREFUSED; through a user-space proxy it is a reset')
  t.equal((await lb.stats()).upstreamErrors, 1)
  t.same(lb.endpointErrors, [], 'the L4 relay cannot fail an endpoint update')
})

t.test('a client reset is passed on to the pod', async (t) => {
  let resolveReset: (code: string | undefined) => void = () => {}
  const reset = new Promise<string | undefined>((resolve) => { resolveReset = resolve })
  const server = createServer((socket) => {
    socket.on('error', (err: NodeJS.ErrnoException) => { resolveReset(err.code) })
    socket.on('close', () => { resolveReset('closed') })
    socket.write('hello')
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const lb = await L4Balancer.listen()
  t.teardown(() => { server.close() })
  lb.setEndpoints([{ name: 'p', host: '127.0.0.1', port: (server.address() as { port: number }).port }])
  const client = await open(lb.port)
  await once(client, 'data')
  const bystander = await open(lb.port)
  await once(bystander, 'data')
  client.resetAndDestroy()
  t.ok(['ECONNRESET', 'closed'].includes(await reset as string))
  // Closing the balancer ends connections still open.
  await lb.close()
  await once(bystander, 'close')
})
