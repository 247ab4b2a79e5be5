// Outside a clone of the repository (no examples/service to default to),
// `rollout` needs --command: a usage error, exit 2, before anything starts.
import t from 'tap'
import { io } from './helpers/loadtest.js'
import { EXAMPLE_SERVICE, rollout } from '../src/cli/rollout.js'

t.test('--command is required where no example service exists', async (t) => {
  const o = io(false)
  const cwd = t.testdir({ 'server.js': '' })
  t.equal(await rollout(['--cwd', cwd, '--no-baseline'], o), 2)
  t.match(o.err(), /--command is required: the command that starts your service, e\.g\. --command "node server\.js"/)
  t.match(o.err(), `no ${EXAMPLE_SERVICE} in ${cwd}`)
  t.match(o.err(), /usage: fastify-zero-downtime-kit rollout/, 'followed by the usage')
})
