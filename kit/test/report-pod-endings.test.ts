// One line per pod in the text report, for pods the report's own tables never
// show (one not deleted during the run, one whose reading carries no count of
// cut requests), and addresses as the kit prints them, IPv6 in brackets.
import t from 'tap'
import { formatAddress } from '../src/network/pod-network.js'
import { describeEndings } from '../src/report/endings.js'

const endings = { retired: 4, closedByClient: 1, idleClosed: 2, stalledClosed: 0, forced: 0 }

t.test('describeEndings: a pod not deleted, one without a count of cut requests', async (t) => {
  t.equal(describeEndings({ pod: 'web-v2-1', endings, cut: 2 }),
    'web-v2-1: not deleted; 4 retired, 1 closed by client, 2 idle-closed, 0 stalled, 0 cut (2 request(s))')
  t.equal(describeEndings({ pod: 'web-v1-1', goneAfterDeletionMs: 2345, endings }),
    'web-v1-1: gone 2.3 s after deletion; 4 retired, 1 closed by client, 2 idle-closed, 0 stalled, 0 cut (0 request(s))', 'no count: 0, not "undefined"')
  t.equal(describeEndings({ pod: 'base-1' }), 'base-1: not deleted; no drain report')
})

t.test('formatAddress: host:port, an IPv6 host in brackets', async (t) => {
  t.equal(formatAddress({ host: '127.0.0.1', port: 8080 }), '127.0.0.1:8080')
  t.equal(formatAddress({ host: '::1', port: 8080 }), '[::1]:8080')
  t.equal(formatAddress({ host: 'fd00::18:2', port: 3000 }), '[fd00::18:2]:3000')
})
