// One scrubber for everything that leaves the process: probe bodies, the
// runner's logs, the drain's timeline and its report. Tested against a table
// of secret shapes; linear on a bounded prefix.
import net from 'node:net'
import t from 'tap'
import Fastify from 'fastify'
import zeroDowntime from '../src/index.js'
import { describeError, loggableError, MAX_INPUT, MAX_OUTPUT, scrub } from '../src/scrub.js'
import { drainApp } from './fixtures/drain/app.js'
import type { LogLine } from './fixtures/drain/harness.js'

// [shape, text, secrets that must not survive, exact output]
const SHAPES: Array<[string, string, string[], string]> = [
  ['URL', 'connect to postgres://app:s3cret@db.internal:5432/app failed', ['s3cret', 'app:', 'db.internal'], 'connect to postgres://[redacted] failed'],
  ['URL, no password', 'redis://:s3cret@cache:6379', ['s3cret'], 'redis://[redacted]'],
  ['URL with a query', 'GET https://api.example/v1?api_key=s3cret&x=1 failed', ['s3cret'], 'GET https://[redacted] failed'],
  ['URL-encoded URL', 'next=postgres%3A%2F%2Fapp%3As3cret%40db%2Fapp&page=2', ['s3cret'], 'next=postgres://[redacted]'],
  ['double-encoded URL', 'x=amqp%253A%252F%252Fguest%253As3cret%2540mq', ['s3cret'], 'x=amqp://[redacted]'],
  ['userinfo without scheme', 'connecting to app:s3cret@db:5432 failed', ['s3cret'], 'connecting to [redacted]@db:5432 failed'],
  ['userinfo after another @', 'x@app:s3cret@db', ['s3cret'], 'x@[redacted]@db'],
  ['env-style', 'DB_PASSWORD=s3cret PGPASSWORD=s3cret2 AWS_SECRET_ACCESS_KEY=abc/s3cret+x', ['s3cret'], 'DB_PASSWORD=[redacted] PGPASSWORD=[redacted] AWS_SECRET_ACCESS_KEY=[redacted]'],
  ['assignment', 'password=s3cret, token: s3cret2; pwd = s3cret3', ['s3cret'], 'password=[redacted], token: [redacted]; pwd = [redacted]'],
  ['JSON', '{"user":"app","password":"s3cr\\"et9","apiKey":"s3cret2","n":1}', ['s3cr', 'et9'], '{"user":"app","password":[redacted],"apiKey":[redacted],"n":1}'],
  ['single-quoted', "{ 'client_secret': 's3cret' }", ['s3cret'], "{ 'client_secret': [redacted] }"],
  ['CLI flag', 'spawn psql --password=s3cret', ['s3cret'], 'spawn psql --password=[redacted]'],
  ['Authorization header', 'Authorization: Bearer s3cret.token', ['s3cret'], 'Authorization: [redacted]'],
  ['custom auth scheme', 'Proxy-Authorization: Custom s3cret', ['s3cret'], 'Proxy-Authorization: [redacted]'],
  ['Cookie header', 'Cookie: sid=s3cret; theme=dark', ['s3cret'], 'Cookie: [redacted]'],
  ['bearer token alone', 'sent Bearer s3cret to the API', ['s3cret'], 'sent Bearer [redacted] to the API'],
  ['basic credentials', 'basic czNjcmV0OnMzY3JldA== refused', ['czNjcmV0'], 'basic [redacted] refused'],
  ['JWT', 'bad eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJzM2NyZXQifQ.c2lnbmF0dXJl', ['eyJ'], 'bad [redacted]'],
  ['query token', 'GET /reset?token=s3cret&user=1', ['s3cret'], 'GET /reset?token=[redacted]&user=1'],
  ['quoted after a secret word', 'password "s3cret" rejected, token \'s3cret2\' expired', ['s3cret'], 'password [redacted] rejected, token [redacted] expired'],
  ['pass= and pw=', 'pass=s3cret pw=s3cret2 PW: s3cret3 export PASS=s3cret4', ['s3cret'], 'pass=[redacted] pw=[redacted] PW: [redacted] export PASS=[redacted]'],
  ['pass and pw as the last part of a key', 'DB_PASS=s3cret redis.pw=s3cret2 dbPass=s3cret3 --pw=s3cret4 ?pass=s3cret5&u=1', ['s3cret'], 'DB_PASS=[redacted] redis.pw=[redacted] dbPass=[redacted] --pw=[redacted] ?pass=[redacted]&u=1'],
  ['CLI flag with a space', 'spawn psql --password s3cret -h db', ['s3cret'], 'spawn psql --password [redacted] -h db'],
  ['CLI flags of other tools', 'keytool -storepass s3cret -keypass s3cret2; plink -pw s3cret3 host; x --api-key "s3cret4"', ['s3cret'], 'keytool -storepass [redacted] -keypass [redacted]; plink -pw [redacted] host; x --api-key [redacted]'],
  ['mysql -p<password>', 'mysql -u root -ps3cret db', ['s3cret'], 'mysql -u root -p[redacted] db'],
  ['PEM private key', 'key: -----BEGIN RSA PRIVATE KEY-----\nMIIEs3cret\nAAAA\n-----END RSA PRIVATE KEY----- loaded', ['s3cret', 'AAAA'], 'key: -----BEGIN RSA PRIVATE KEY----- [redacted] loaded'],
  ['PEM OpenSSH key', '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1s3cret\n-----END OPENSSH PRIVATE KEY-----', ['s3cret'], '-----BEGIN OPENSSH PRIVATE KEY----- [redacted]'],
  ['PEM encrypted key, cut short', 'bad -----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIFHs3cret', ['s3cret'], 'bad -----BEGIN ENCRYPTED PRIVATE KEY----- [redacted]'],
  ['PGP private key', '-----BEGIN PGP PRIVATE KEY BLOCK-----\ns3cret\n-----END PGP PRIVATE KEY BLOCK-----', ['s3cret'], '-----BEGIN PGP PRIVATE KEY BLOCK----- [redacted]'],
  ['Authorization Basic', 'Authorization: Basic czNjcmV0OnMzY3JldA==', ['czNjcmV0'], 'Authorization: [redacted]'],
  ['AWS access keys', 'key AKIAIOSFODNN7XS3CRET used, temp ASIAIOSFODNN7XS3CRET', ['S3CRET'], 'key [redacted] used, temp [redacted]'],
  ['AWS secret key', 'aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYs3cret', ['s3cret'], 'aws_secret_access_key = [redacted]'],
  ['service tokens', `gh ghp_${'s3cret'.repeat(6)} slack xoxb-123-s3cret stripe sk_live_s3cret1234 npm npm_${'s3cret'.repeat(6)}`, ['s3cret'], 'gh [redacted] slack [redacted] stripe [redacted] npm [redacted]'],
  ['userinfo in every scheme', 'redis://:s3cret@c amqps://u:s3cret@mq mongodb+srv://u:s3cret@cluster0.x.net/db', ['s3cret'], 'redis://[redacted] amqps://[redacted] mongodb+srv://[redacted]'],
  ['JSON inside a JSON string', '{"log":"{\\"user\\":\\"a\\",\\"password\\":\\"s3cret\\"}"}', ['s3cret'], '{"log":"{\\"user\\":\\"a\\",\\"password\\":[redacted]}"}'],
  // Percent-encoded punctuation is decoded first: an encoded secret meets every rule.
  ['URL-encoded pair', 'GET /cb?next=%2Flogin%3Fpassword%3Ds3cret%26user%3Dme', ['s3cret'], 'GET /cb?next=/login?password=[redacted]&user=me'],
  ['URL-encoded userinfo and header', 'x=app%3As3cret%40db h=authorization%3A%20Bearer%20s3cret2', ['s3cret'], 'x=[redacted]@db h=authorization: [redacted]'],
  ['hash arrows', '{ \'password\' => \'s3cret\', :api_key => "s3cret2", pass=>s3cret3 }', ['s3cret'], "{ 'password' => [redacted], :api_key => [redacted], pass=>[redacted] }"],
  ['XML elements', '<user>app</user><password>s3cret</password><ns:apiKey a="1">s3cret2</ns:apiKey>', ['s3cret'], '<user>app</user><password>[redacted]</password><ns:apiKey a="1">[redacted]</ns:apiKey>'],
  ['Azure connection string', 'DefaultEndpointsProtocol=https;AccountName=app;AccountKey=czNjcmV0Cg==;EndpointSuffix=core.windows.net', ['czNjcmV0'], 'DefaultEndpointsProtocol=https;AccountName=app;AccountKey=[redacted];EndpointSuffix=core.windows.net'],
  ['SAS token', 'SharedAccessSignature=sv=2022-11-02&sig=s3cret%2Bx&se=2026', ['s3cret'], 'SharedAccessSignature=[redacted]&sig=[redacted]&se=2026'],
  ['password flags of one tool', 'Command failed: redis-cli -h cache -a s3cret ping; sshpass -p s3cret2 ssh db; mongosh -u app -p s3cret3 db', ['s3cret'], 'Command failed: redis-cli -h cache -a [redacted] ping; sshpass -p [redacted] ssh db; mongosh -u app -p [redacted] db'],
  ['user:password flags', 'curl -u me:s3cret https://x --proxy-user=p:s3cret2', ['s3cret'], 'curl -u me:[redacted] https://[redacted] --proxy-user=p:[redacted]'],
  ['array and object values', '{"password":["s3cret","s3cret2"],"token":{"value":"s3cret3"},"n":1}', ['s3cret'], '{"password":[redacted],"token":[redacted],"n":1}'],
  ['OpenAI and Anthropic keys', `key sk-proj-${'s3cret'.repeat(8)} and sk-ant-api03-${'s3cret'.repeat(8)}`, ['s3cret'], 'key [redacted] and [redacted]']
]

// What a dependency needs to be found stays; nothing else is added.
const KEPT = [
  'connect ECONNREFUSED 10.0.0.7:5432',
  'getaddrinfo ENOTFOUND db.internal',
  'password authentication failed for user "app"',
  'timeout exceeded when trying to connect',
  'Key (email)=(a@b.c) already exists.',
  // Words that only look like the short secret keys, a port after -p, a certificate.
  'bypass=1 compass: north passes=3 checks pass, 1 fails',
  'psql -p 5432 -h db; redis-cli -p6379',
  'mysql -p mydb',
  '-----BEGIN CERTIFICATE----- MIIB -----END CERTIFICATE-----',
  'AKIA is a prefix; AKIAIOSFODNN7EXAMPLEXX is too long',
  // -p is redis-cli's port, -U psql's user, a user alone is no password; a usage line's <password> is no element.
  'redis-cli -p 6379 ping; psql -U app -h db; curl -u admin',
  'ERR AUTH <password> called without any password configured',
  'signal=SIGTERM design=1 sk-learn 50%25 off'
]

t.test('every secret shape in the table is redacted, the rest of the text kept', async (t) => {
  for (const [shape, text, secrets, expected] of SHAPES) {
    const out = scrub(text)
    t.equal(out, expected, shape)
    for (const secret of secrets) t.notOk(out.includes(secret), `${shape}: no ${secret}`)
  }
  for (const text of KEPT) t.equal(scrub(text), text, `kept: ${text}`)
})

t.test('describeError adds no host the message did not name', async (t) => {
  const err = Object.assign(new Error('connect ECONNREFUSED 10.0.0.7:5432'), { address: '10.0.0.7', hostname: 'primary.db.internal', config: { connectionString: 'postgres://u:s3cret@primary.db.internal/x' } })
  t.equal(describeError(err), 'connect ECONNREFUSED 10.0.0.7:5432')
})

t.test('bounded work: only the first MAX_INPUT characters count, outputs are one line of at most MAX_OUTPUT', async (t) => {
  const big = 'a.'.repeat(50000)
  const out = scrub(big)
  t.equal(out.length, MAX_OUTPUT)
  t.equal(out, scrub(big.slice(0, MAX_INPUT) + 'postgres://u:s3cret@db/x'.repeat(1000)), 'nothing after the prefix is looked at')
  const late = scrub('word '.repeat(MAX_INPUT) + 'password=s3cret')
  t.notOk(late.includes('s3cret'))
  t.match(late, /…$/, 'a cut text says so')
  t.equal(scrub('short\r\nand\ttabbed'), 'short and tabbed')
  t.equal(scrub(''), '')
})

t.test('probe bodies and runner logs are scrubbed; a 100 KB error does not hold the probe', async (t) => {
  const lines: LogLine[] = []
  const app = Fastify({ logger: { level: 'info', stream: { write: (l: string) => { lines.push(JSON.parse(l) as LogLine) } } } })
  const checks: Record<string, () => never> = { huge: () => { throw new Error('a.'.repeat(50000)) } }
  SHAPES.forEach(([, text], i) => { checks[`shape-${i}`] = () => { throw new Error(text) } })
  await app.register(zeroDowntime, { checks, pressure: false })
  await app.ready()
  const bodies = [await app.inject('/ready?verbose'), await app.inject('/ready'), await app.inject('/ready/shape-0?verbose')].map((r) => r.body)
  const everything = bodies.join('\n') + JSON.stringify(lines)
  for (const [shape, , secrets] of SHAPES) for (const secret of secrets) t.notOk(everything.includes(secret), `${shape}: no ${secret} in bodies or logs`)
  t.equal(app.zeroDowntime.checks.find((c) => c.name === 'huge')?.output?.length, MAX_OUTPUT)
  t.ok(lines.some((l) => l.msg === 'health check "shape-0" fails' && l.output === SHAPES[0]![3]), 'the log line carries the scrubbed output')
  await app.close()
})

t.test('the drain log and its report are scrubbed: cleanup errors, close errors, go-away failures, cut URLs', async (t) => {
  const { app, logs } = await drainApp({ delayMs: 0 })
  app.zeroDowntime.addCleanup('databases', 'pg', async () => { throw new Error('pool.end failed for postgres://u:s3cret@db/x') })
  app.zeroDowntime.addCleanup('consumers', 'queue', () => { throw Object.assign(new Error(''), { code: 'EAUTH', cause: 'AUTH refused, password=s3cret' }) })
  app.zeroDowntime.onGoAway(() => { throw new Error('ws close failed: Authorization: Bearer s3cret') })
  app.addHook('onClose', async () => { throw new Error('closing redis://:s3cret@cache failed') })
  let arrived!: () => void
  const inFlight = new Promise<void>((resolve) => { arrived = resolve })
  app.get('/hang', async () => { arrived(); return await new Promise(() => {}) })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const socket = net.connect((app.server.address() as net.AddressInfo).port, '127.0.0.1')
  socket.on('error', () => {})
  socket.write('GET /hang?session=s3cret HTTP/1.1\r\nHost: x\r\n\r\n')
  await inFlight
  const drained = app.zeroDowntime.drain('scrub')
  const { drainControllerOf } = await import('../src/plugin.js')
  drainControllerOf(app)!.abort('test cuts the hanging request')
  const report = await drained
  t.match(report.cleanup, [
    { name: 'queue', outcome: 'error', error: 'EAUTH; cause: AUTH refused, password=[redacted]' },
    { name: 'pg', outcome: 'error', error: 'pool.end failed for postgres://[redacted]' }
  ])
  t.match(report.cut, [{ url: '/hang?session=[redacted]' }])
  t.match(logs.find((l) => l.drain === 'close-error'), { error: 'closing redis://[redacted] failed' })
  t.match(logs.find((l) => l.drain === 'go-away'), { error: 'ws close failed: Authorization: [redacted]' })
  const drainLog = JSON.stringify(logs.filter((l) => l.drain !== undefined))
  t.notOk(drainLog.includes('s3cret'), 'no password, token or connection string in the drain log')
})

t.test('loggableError: an app error logged with its stack, scrubbed line by line, bounded, never throwing', async (t) => {
  const err = new Error('connect failed for postgres://u:s3cret@db/x')
  const logged = loggableError(err)
  t.equal(logged.type, 'Error')
  t.equal(logged.message, 'connect failed for postgres://[redacted]')
  t.match(logged.stack, /^Error: connect failed for postgres:\/\/\[redacted\]\n\s+at /)
  t.notOk(JSON.stringify(logged).includes('s3cret'))
  const deep = new Error('x')
  deep.stack = 'Error: x\n' + '    at f (password=s3cret)\n'.repeat(1000)
  const bounded = loggableError(deep)
  t.ok(bounded.stack!.split('\n').length <= 20, 'a bounded number of stack lines')
  t.notOk(bounded.stack!.includes('s3cret'))
  t.same(loggableError('DB_PASSWORD=s3cret'), { type: 'string', message: 'DB_PASSWORD=[redacted]' })
  const hostile = new Error('m')
  Object.defineProperty(hostile, 'name', { get () { throw new Error('getter') } })
  t.equal(loggableError(hostile).type, 'unknown', 'a throwing getter is survived')
  const stackless = new TypeError('token=s3cret')
  stackless.stack = undefined
  t.same(loggableError(stackless), { type: 'TypeError', message: 'token=[redacted]' }, 'an error without a stack string: no stack, nothing made up')
})
