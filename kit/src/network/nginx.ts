/**
 * L7 mode, second proxy: a real nginx set up the way ingress-nginx (and
 * NGINX-based gateways) run it in front of pods:
 *
 * - one upstream whose peer is picked per request by a Lua balancer
 *   (`balancer_by_lua_block`, lua-nginx-module + lua-resty-core), with the
 *   endpoint list in a shared dict that an internal HTTP endpoint updates:
 *   endpoints change WITHOUT a reload, as ingress-nginx's
 *   `/configuration/backends` does (stock nginx has no dynamic upstreams;
 *   that API is NGINX Plus only);
 * - upstream keep-alive with ingress-nginx's defaults (320 idle connections
 *   per worker, 60 s, 10000 requests), HTTP/1.1 to the pods,
 *   `Connection: ""`;
 * - its retry defaults: `proxy_next_upstream error timeout`, 3 tries, each
 *   try asking the Lua balancer for the next endpoint (nginx does not retry
 *   a non-idempotent request once it was sent).
 *
 * The internal endpoints (endpoint list, counters) listen on a unix socket of
 * the kit's, apart from the traffic. nginx only speaks HTTP/1.x to upstreams,
 * so this mode is for h1 replicas.
 */
import type { ChildProcess } from 'node:child_process'
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Balancer, BalancerStats, Endpoint } from './balancer.js'
import { where } from './haproxy.js'
import type { ProxyPlace } from './kernel/node.js'
import { listeningSocket, type HandedSocket } from './listen-socket.js'
import { LOOPBACK } from './loopback.js'
import { formatAddress } from './pod-network.js'
import { startProxy } from './proxy-process.js'

/** Debian's paths (libnginx-mod-http-lua, which pulls in ndk and lua-resty-core). */
const MODULES = ['/usr/lib/nginx/modules/ndk_http_module.so', '/usr/lib/nginx/modules/ngx_http_lua_module.so']

/**
 * The Lua balancer: the endpoint list is one `host port` line per pod. It
 * counts what found no endpoint here (ngx.exit(502) from this phase is
 * answered 500, as ingress-nginx's 503 is its own choice).
 */
const BALANCER_LUA = `
      local balancer = require("ngx.balancer")
      local dict = ngx.shared.endpoints
      local peers, total, weighted = {}, 0, false
      for host, port, weight in string.gmatch(dict:get("endpoints") or "", "(%S+) (%d+) ?(%d*)\\n") do
        weighted = weighted or weight ~= ""
        local w = tonumber(weight) or 1
        total = total + w
        peers[#peers + 1] = { host, tonumber(port), w }
      end
      if #peers == 0 then
        dict:incr("noEndpoint", 1, 0)
        return ngx.exit(502)
      end
      local n = dict:incr("rr", 1, 0)
      -- ingress-nginx asks for one more try each time; proxy_next_upstream_tries bounds them
      balancer.set_more_tries(1)
      local peer = peers[(n % #peers) + 1]
      if weighted then
        -- a weighted canary, as ingress-nginx's canary-weight: a random draw per request
        local r = math.random() * total
        for _, p in ipairs(peers) do
          peer = p
          r = r - p[3]
          if r < 0 then break end
        end
      end
      local ok, err = balancer.set_current_peer(peer[1], peer[2])
      if not ok then ngx.log(ngx.ERR, "set_current_peer: ", err) end`

/**
 * Counted once a request is over: a client connection at its first request,
 * and every try at a pod that got no response header from it (refused,
 * reset, timed out). A client that gave up (499) is not the pod's error.
 */
const COUNT_LUA = `
      local dict = ngx.shared.endpoints
      if ngx.var.connection_requests == "1" then dict:incr("connections", 1, 0) end
      local addrs, times = ngx.var.upstream_addr, ngx.var.upstream_header_time
      if addrs == nil or addrs == "" or times == nil or ngx.var.status == "499" then return end
      local last
      for t in string.gmatch(times, "[^,%s]+") do
        if t == "-" then dict:incr("upstreamErrors", 1, 0) end
        last = t
      end
      -- the pod that answered is the last one tried
      local addr = string.match(addrs, "([^,%s]+)$")
      if last ~= "-" and addr ~= nil then dict:incr("served " .. addr, 1, 0) end`

/** Replaces the endpoint list; a line that is not `host port` (port 1-65535) refuses the whole list. */
const ENDPOINTS_LUA = `
        ngx.req.read_body()
        local body = ngx.req.get_body_data() or ""
        for line in string.gmatch(body, "[^\\n]+") do
          local port = tonumber(string.match(line, "^%S+ (%d+)$") or string.match(line, "^%S+ (%d+) %d+$"))
          if port == nil or port < 1 or port > 65535 then
            ngx.status = 400
            ngx.say("bad endpoint: ", line)
            return
          end
        end
        ngx.shared.endpoints:set("endpoints", body)
        ngx.say("ok")`

const STATS_LUA = `
        local dict = ngx.shared.endpoints
        local served = {}
        for _, key in ipairs(dict:get_keys(0)) do
          local addr = string.match(key, "^served (.+)$")
          if addr ~= nil then served[#served + 1] = string.format('"%s":%d', addr, dict:get(key)) end
        end
        ngx.say(string.format('{"connections":%d,"noEndpoint":%d,"upstreamErrors":%d,"served":{%s}}',
          dict:get("connections") or 0, dict:get("noEndpoint") or 0, dict:get("upstreamErrors") or 0, table.concat(served, ",")))`

function config (dir: string, listen: string, asRoot: boolean): string {
  return `daemon off;
master_process on;${asRoot ? '\n# the ingress namespace may be an unprivileged user namespace, where root is the only user there is\nuser root root;' : ''}
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
${(process.env.NGINX_MODULES?.split(',') ?? MODULES).map((m) => `load_module ${m};`).join('\n')}
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  lua_shared_dict endpoints 1m;
  upstream upstream_balancer {
    server 0.0.0.1; # placeholder, as ingress-nginx: the Lua balancer sets the peer
    balancer_by_lua_block {${BALANCER_LUA}
    }
    keepalive 320;
    keepalive_timeout 60s;
    keepalive_requests 10000;
  }
  server {
    # on loopback, the listening socket the kit opened on a port the kernel picked, inherited as fd 3;
    # on the kernel path, the ingress namespace's own address
    listen ${listen};
    location / {
      proxy_pass http://upstream_balancer;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
      proxy_request_buffering on;
      proxy_next_upstream error timeout;
      proxy_next_upstream_tries 3;
      proxy_connect_timeout 5s;
      proxy_read_timeout 60s;
      proxy_send_timeout 60s;
      log_by_lua_block {${COUNT_LUA}
      }
    }
  }
  server {
    listen unix:${dir}/admin.sock;
    location = /configuration/backends {
      content_by_lua_block {${ENDPOINTS_LUA}
      }
    }
    location = /stats {
      content_by_lua_block {${STATS_LUA}
      }
    }
  }
}
`
}

/** One request to nginx's internal endpoints; rejects unless it answers 200. */
async function admin (socketPath: string, path: string, body?: string): Promise<string> {
  return await new Promise((resolve, reject) => {
    const req = request({ socketPath, path, method: body === undefined ? 'GET' : 'POST', agent: false }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => { text += chunk })
      res.on('end', () => { res.statusCode === 200 ? resolve(text) : reject(new Error(`nginx ${path}: status ${String(res.statusCode)}: ${text.trim()}`)) })
    })
    req.on('error', reject)
    req.end(body)
  })
}

export class NginxBalancer implements Balancer {
  readonly host: string
  readonly port: number
  readonly endpointErrors: string[] = []
  readonly #socket: string
  readonly #dir: string
  readonly #child: ChildProcess
  readonly #exited: Promise<void>
  /** Every pod it was ever given, by the address nginx logs (`host:port`, `[::1]:port`). */
  readonly #names = new Map<string, string>()
  #queue: Promise<void> = Promise.resolve()

  private constructor (host: string, port: number, dir: string, child: ChildProcess) {
    this.host = host
    this.port = port
    this.#socket = join(dir, 'admin.sock')
    this.#dir = dir
    this.#child = child
    this.#exited = new Promise((resolve) => { child.on('exit', () => { resolve() }) })
  }

  /** Starts nginx (`nginx` on PATH, or NGINX_BIN) and waits until a worker answers. */
  static async start (place?: ProxyPlace): Promise<NginxBalancer> {
    const dir = await mkdtemp(join(tmpdir(), 'fzd-nginx-'))
    // nginx's workers drop root privileges: they must reach the temp paths.
    await chmod(dir, 0o755)
    const listener = place === undefined ? await listeningSocket() : undefined
    const address = { host: place?.host ?? LOOPBACK, port: place?.port ?? (listener as HandedSocket).port }
    const file = join(dir, 'nginx.conf')
    await writeFile(file, config(dir, formatAddress(address), place !== undefined))
    // The master opens every listener before it starts its workers: once a worker answers, it serves.
    const child = await startProxy({
      name: 'nginx',
      bin: process.env.NGINX_BIN ?? 'nginx',
      args: ['-p', dir, '-c', file, '-e', join(dir, 'error.log')],
      // nginx takes the sockets listed in NGINX as its own for the listen directives of the same address.
      env: { ...process.env, NGINX: '3;' },
      ...where(place, listener),
      dir,
      serving: async () => await admin(join(dir, 'admin.sock'), '/stats').then(() => true, () => false),
      hint: 'install it (Debian: apt-get install nginx-light libnginx-mod-http-lua) or use --proxy l4'
    })
    return new NginxBalancer(address.host, address.port, dir, child)
  }

  podFor (): undefined {
    // Any request may go to any pod through L7.
    return undefined
  }

  /** Replaces the endpoint list in nginx's shared dict: no reload, pooled connections stay. */
  async setEndpoints (endpoints: readonly Endpoint[]): Promise<void> {
    this.#queue = this.#queue.then(async () => {
      for (const e of endpoints) this.#names.set(formatAddress(e), e.name)
      await admin(this.#socket, '/configuration/backends', endpoints.map((e) => `${e.host} ${e.port}${e.weight === undefined ? '' : ` ${Math.round(e.weight * 1000)}`}\n`).join(''))
    }).catch((err: Error) => { this.endpointErrors.push(err.message) })
    await this.#queue
  }

  async stats (): Promise<BalancerStats> {
    const { connections, noEndpoint, upstreamErrors } = JSON.parse(await admin(this.#socket, '/stats')) as BalancerStats
    return { connections, noEndpoint, upstreamErrors }
  }

  /** Responses per pod, from the address nginx logged for the last try of each request. */
  async served (): Promise<Record<string, number>> {
    const { served } = JSON.parse(await admin(this.#socket, '/stats')) as { served: Record<string, number> }
    // nginx only logs addresses it was given, and every one it was given is kept.
    return Object.fromEntries(Object.entries(served).map(([addr, n]) => [this.#names.get(addr) as string, n]))
  }

  async close (): Promise<void> {
    await this.#queue
    // SIGTERM, not SIGKILL: nginx's master stops its workers (a killed master leaves them listening).
    this.#child.kill('SIGTERM')
    await this.#exited
    await rm(this.#dir, { recursive: true, force: true })
  }
}
