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
 * nginx only speaks HTTP/1.x to upstreams, so this mode is for h1 replicas.
 */
import type { ChildProcess } from 'node:child_process'
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Balancer, BalancerStats, Endpoint } from './balancer.js'
import { freePort, LOOPBACK } from './loopback.js'
import { startProxy } from './proxy-process.js'

/** Debian's paths (libnginx-mod-http-lua, which pulls in ndk and lua-resty-core). */
const MODULES = ['/usr/lib/nginx/modules/ndk_http_module.so', '/usr/lib/nginx/modules/ngx_http_lua_module.so']

function config (dir: string, port: number, adminPort: number): string {
  return `daemon off;
master_process on;
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
    balancer_by_lua_block {
      local balancer = require("ngx.balancer")
      local dict = ngx.shared.endpoints
      local ports = {}
      for p in string.gmatch(dict:get("ports") or "", "%d+") do ports[#ports + 1] = tonumber(p) end
      if #ports == 0 then
        ngx.log(ngx.WARN, "no endpoint")
        return ngx.exit(502)
      end
      local n = dict:incr("rr", 1, 0)
      -- ingress-nginx asks for one more try each time; proxy_next_upstream_tries bounds them
      balancer.set_more_tries(1)
      local ok, err = balancer.set_current_peer("${LOOPBACK}", ports[(n % #ports) + 1])
      if not ok then ngx.log(ngx.ERR, "set_current_peer: ", err) end
    }
    keepalive 320;
    keepalive_timeout 60s;
    keepalive_requests 10000;
  }
  server {
    listen ${LOOPBACK}:${port};
    location = /__nginx_alive { return 200 "ok"; }
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
    }
  }
  server {
    listen ${LOOPBACK}:${adminPort};
    location = /configuration/backends {
      content_by_lua_block {
        ngx.req.read_body()
        ngx.shared.endpoints:set("ports", ngx.req.get_body_data() or "")
        ngx.say("ok")
      }
    }
  }
}
`
}

async function post (port: number, path: string, body: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const req = request({ host: LOOPBACK, port, path, method: 'POST', agent: false }, (res) => {
      res.resume()
      res.on('end', () => { res.statusCode === 200 ? resolve() : reject(new Error(`nginx ${path}: status ${String(res.statusCode)}`)) })
    })
    req.on('error', reject)
    req.end(body)
  })
}

export class NginxBalancer implements Balancer {
  readonly port: number
  readonly stats: BalancerStats = { connections: 0, noEndpoint: 0, upstreamErrors: 0 }
  /** Endpoint updates that failed; an endpoint change must never crash the run. */
  readonly errors: string[] = []
  readonly #adminPort: number
  readonly #dir: string
  readonly #child: ChildProcess
  readonly #exited: Promise<void>
  #queue: Promise<void> = Promise.resolve()

  private constructor (port: number, adminPort: number, dir: string, child: ChildProcess) {
    this.port = port
    this.#adminPort = adminPort
    this.#dir = dir
    this.#child = child
    this.#exited = new Promise((resolve) => { child.on('exit', () => { resolve() }) })
  }

  /** Starts nginx (`nginx` on PATH, or NGINX_BIN) and waits until it answers. */
  static async start (): Promise<NginxBalancer> {
    const dir = await mkdtemp(join(tmpdir(), 'fzd-nginx-'))
    // nginx's workers drop root privileges: they must reach the temp paths.
    await chmod(dir, 0o755)
    const port = await freePort()
    const adminPort = await freePort()
    const file = join(dir, 'nginx.conf')
    await writeFile(file, config(dir, port, adminPort))
    const child = await startProxy({
      name: 'nginx', bin: process.env.NGINX_BIN ?? 'nginx', args: ['-p', dir, '-c', file, '-e', join(dir, 'error.log')], dir, port,
      alivePath: '/__nginx_alive', hint: 'install it (Debian: apt-get install nginx-light libnginx-mod-http-lua) or use --proxy l4'
    })
    return new NginxBalancer(port, adminPort, dir, child)
  }

  podFor (): undefined {
    // Any request may go to any pod through L7.
    return undefined
  }

  /** Replaces the endpoint list in nginx's shared dict: no reload, pooled connections stay. */
  async setEndpoints (endpoints: readonly Endpoint[]): Promise<void> {
    this.#queue = this.#queue.then(async () => {
      await post(this.#adminPort, '/configuration/backends', endpoints.map((e) => e.port).join(','))
    }).catch((err: Error) => { this.errors.push(err.message) })
    await this.#queue
  }

  async close (): Promise<void> {
    await this.#queue
    // SIGTERM, not SIGKILL: nginx's master stops its workers (a killed master leaves them listening).
    this.#child.kill('SIGTERM')
    await this.#exited
    await rm(this.#dir, { recursive: true, force: true })
  }
}
