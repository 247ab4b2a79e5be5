// NGINX_MODULES replaces the dynamic modules the kit's nginx loads (for an
// nginx whose Lua modules live elsewhere than Debian puts them): a list that
// names a module nginx cannot load stops it from starting, saying which.
import t from 'tap'
import { NginxBalancer } from '../src/network/nginx.js'

t.test('NGINX_MODULES: a listed module nginx cannot load stops it from starting, named', async (t) => {
  const saved = process.env.NGINX_MODULES
  t.teardown(() => {
    if (saved === undefined) delete process.env.NGINX_MODULES
    else process.env.NGINX_MODULES = saved
  })
  process.env.NGINX_MODULES = '/nonexistent/ndk_http_module.so,/nonexistent/ngx_http_lua_module.so'
  const err = await NginxBalancer.start().then(async (lb) => { await lb.close(); return undefined }, (e: Error) => e)
  t.match(err?.message, /^nginx did not start \(exit code 1\)/)
  t.match(err?.message, /dlopen\(\) "\/nonexistent\/ndk_http_module\.so" failed/, 'the first listed module is the one it tried')
})
