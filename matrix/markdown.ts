/**
 * docs/results.md from the recorded runs: the tables, how to read them, what
 * ran and why, the machine, every version, the date and the command.
 */
import { formatCount, formatSeconds, type CellSummary } from './cells.js'
import { DEFAULT_PLAN, PROXIES, PROXY_SHORT, PROXY_TITLES, type Proxy } from './plan.js'
import type { Recipe } from './recipes.js'
import type { MatrixRecord, Session } from './record.js'
import type { CellState, ProxyTable, Results, RunRow } from './table.js'

export interface DocumentInput {
  readonly record: MatrixRecord
  readonly results: Results
  readonly recipes: readonly Recipe[]
  /** Shown as a warning at the top when set: why these numbers are not the final ones. */
  readonly draft?: string
  /** The picture's file name, relative to the document. */
  readonly picture: string
}

// Named, not linked: docs/ is published with the plugin, matrix/ is not, and a
// relative link would be dead on the registry's page.
const recipeName = (r: Recipe): string => `${r.title}<br>\`${r.id}\``

const PROXY_FLAGS: Readonly<Record<Proxy, string>> = { l4: '`--proxy l4`', l7: '`--proxy l7`', nginx: '`--proxy nginx`' }

export function cellText (cell: CellState | undefined): string {
  if (cell === undefined || cell.state === 'not run') return 'not run'
  if (cell.state === 'n/a') return `n/a: ${cell.why}`
  return measuredText(cell.summary)
}

function measuredText (s: CellSummary): string {
  if (s.rollouts === 0) return `run failed: ${s.failedRuns[0] ?? 'unknown'}`
  const parts = [`**${formatCount(s.mean)}**${s.rollouts > 1 ? ` (${s.min}–${s.max})` : ''}`]
  if (s.kinds.length > 0) parts.push(s.kinds.slice(0, 3).map(([k]) => k).join(', '))
  if (s.slowestGoneMs !== undefined) parts.push(`${formatSeconds(s.slowestGoneMs)}${s.killedAtDeadline > 0 ? ' †' : ''}`)
  if (s.failedRuns.length > 0) parts.push(`${s.failedRuns.length} run(s) failed`)
  if (s.unsettled > 0) parts.push(`${s.unsettled} unaccounted`)
  return parts.join(' · ')
}

function proxyTable (t: ProxyTable, recipes: readonly Recipe[]): string {
  const lines = [
    `### Through ${PROXY_TITLES[t.proxy]} (${PROXY_FLAGS[t.proxy]})`,
    '',
    `| recipe | ${t.scenarios.map((s) => `\`${s}\``).join(' | ')} |`,
    `|---|${t.scenarios.map(() => '---').join('|')}|`
  ]
  for (const r of recipes) {
    lines.push(`| ${recipeName(r)} | ${t.scenarios.map((s) => cellText(t.cells.get(r.id)?.get(s))).join(' | ')} |`)
  }
  return lines.join('\n')
}

/** Per recipe, which measured cells dropped requests: the sentence the README's claims must match. */
function summarySection (results: Results, recipes: readonly Recipe[]): string {
  const lines = ['## In short', '']
  for (const r of recipes) {
    const dropped: string[] = []
    const clean: string[] = []
    for (const t of results.tables) {
      for (const scenario of t.scenarios) {
        const cell = t.cells.get(r.id)?.get(scenario)
        if (cell?.state !== 'measured' || cell.summary.rollouts === 0) continue
        ;(cell.summary.max > 0 ? dropped : clean).push(`${PROXY_SHORT[t.proxy]} \`${scenario}\``)
      }
    }
    const measured = dropped.length + clean.length
    if (measured === 0) {
      lines.push(`- **${r.title}**: not measured.`)
      continue
    }
    lines.push(`- **${r.title}**: ${dropped.length === 0
      ? `no dropped request in any of its ${measured} cells.`
      : `dropped requests in ${dropped.length} of ${measured} cells (${dropped.join(', ')})${clean.length === 0 ? '.' : `; none in ${clean.join(', ')}.`}`}`)
  }
  return lines.join('\n')
}

function dates (sessions: readonly Session[]): string {
  const starts = sessions.map((s) => s.startedAt).sort()
  const ends = sessions.map((s) => s.finishedAt ?? s.startedAt).sort()
  const day = (iso: string | undefined): string => (iso ?? '?').replace('T', ' ').replace(/\.\d+Z$/, ' UTC')
  return starts.length === 1 ? `${day(starts[0])} to ${day(ends[0])}` : `${day(starts[0])} to ${day(ends[ends.length - 1])} (${sessions.length} sessions)`
}

/** The 1-minute load average at the start and end of each session: above the core count, other work was running. */
function loadRange (sessions: readonly Session[]): string {
  const loads = sessions.flatMap((s) => [s.machine.loadAverage[0], s.loadAverageAtEnd?.[0]]).filter((n): n is number => n !== undefined)
  if (loads.length === 0) return '?'
  return sessions.length === 1 && loads.length === 2
    ? `${loads[0]} at the start, ${loads[1]} at the end`
    : `${Math.min(...loads)} to ${Math.max(...loads)} at the starts and ends of its sessions`
}

/** The data paths the runs took, as the kit names them; what was asked where a kit did not say. */
function dataPaths (sessions: readonly Session[], results: Results): string[] {
  const taken = new Set(results.runs.map((r) => r.run.dataPath))
  if (taken.has(undefined)) {
    taken.delete(undefined)
    for (const s of sessions) taken.add(s.network)
  }
  return [...taken] as string[]
}

function machineSection (record: MatrixRecord, results: Results): string {
  const sessions = record.sessions
  const first = sessions[0]
  if (first === undefined) return '## Machine and versions\n\nNo session recorded.'
  const m = first.machine
  const v = first.versions
  const minutes = record.calls.reduce((a, c) => a + c.durationMs, 0) / 60_000
  const lines = [
    '## Machine, versions, date and command',
    '',
    '| | |',
    '|---|---|',
    `| machine | ${m.cores} cores (${m.cpu}), ${m.memoryGiB} GiB |`,
    `| kernel | ${m.kernel} |`,
    `| Node.js | ${m.node} |`,
    `| load average (1 min) | ${loadRange(sessions)} |`,
    `| date | ${dates(sessions)} |`,
    `| time spent in the kit | ${minutes.toFixed(1)} min, ${record.calls.length} kit calls |`,
    `| data path | ${dataPaths(sessions, results).join('; ')} |`,
    `| HAProxy | ${v.haproxy} |`,
    `| nginx | ${v.nginx} |`,
    `| this repository | commit ${[...new Set(sessions.map((s) => s.versions.commit))].join(', ')} |`,
    '',
    `Command${sessions.length > 1 ? 's' : ''}:`,
    '',
    '```sh',
    ...sessions.map((s) => s.command),
    '```',
    '',
    'Versions of the packages the recipes use, from `package-lock.json` (what `npm ci` installs; `test/matrix-doc.test.ts` checks that this table and the lockfile agree):',
    '',
    '| package | version |',
    '|---|---|',
    ...Object.entries(v.packages).map(([name, version]) => `| \`${name}\` | ${version} |`)
  ]
  return lines.join('\n')
}

function planSection (record: MatrixRecord, results: Results): string {
  const rollouts = [...new Set(record.sessions.map((s) => s.rollouts))].join(', ')
  const ran = PROXIES.filter((p) => results.tables.some((t) => t.proxy === p))
    .map((p) => `${PROXY_TITLES[p]}: ${results.tables.find((t) => t.proxy === p)?.scenarios.map((s) => `\`${s}\``).join(', ')}`)
  const plan = PROXIES.map((p) => `${PROXY_TITLES[p]}: ${DEFAULT_PLAN[p].map((s) => `\`${s}\``).join(', ')}`)
  return [
    '## What ran',
    '',
    `Rollouts per cell: ${rollouts}. Cells that ran:`,
    '',
    ...ran.map((l) => `- ${l}`),
    '',
    'The default plan of `npm run matrix`:',
    '',
    ...plan.map((l) => `- ${l}`),
    '',
    PLAN_WHY
  ].join('\n')
}

const PLAN_WHY = `The default plan keeps the whole matrix under 30 minutes on 2 cores (the
time this run spent in the kit is in the table of the machine below;
\`npm run matrix -- --plan\` prints the calls and an estimate). The full grid, \`--full\` (every scenario through every
proxy), takes over an hour. What was left out, and why, from validation
runs of one rollout per recipe and cell (2026-12-07, on this project's 2-core
machine while other test suites ran):

- Through the L4 balancer every scenario runs but \`post\`. L4 is
  service-to-service traffic through a ClusterIP: each keep-alive connection
  stays pinned to its pod until one side closes it, so every race of a
  shutdown shows there. \`post\` through L4 is \`hot-loop\` with a body: every
  peer lost exactly its 20 clients' requests (\`hot-loop\`: its 50), this plugin
  none.
- Through HAProxy and nginx only \`no-prestop\` runs. Without a preStop sleep,
  SIGTERM arrives while the proxy still routes new requests to the pod, and a
  recipe without a delay of its own stops serving them: HAProxy answers 503
  when it cannot reach the pod (Fastify's own 503 while it closes looks the
  same), nginx retries a GET that failed on a connection error on another
  endpoint (\`proxy_next_upstream error timeout\`, 3 tries) and answers 502
  when the tries run out. With the 5 s preStop sleep a proxy has stopped
  sending to a pod before its SIGTERM: \`hot-loop\`, \`post\` and \`idle-pool\`
  through HAProxy and through nginx, and \`grpc\` through HAProxy, dropped
  nothing even for plain Fastify and close-with-grace; \`slow\` through
  HAProxy and \`post\` through nginx dropped nothing for any recipe; \`sse\`
  lost the same streams through a proxy as through L4 (a stream stays on its
  pod either way). \`grpc\` needs h2 to the pods, which the kit's nginx does
  not speak.

Each rollout is its own kit run: a fresh Deployment of 3 replicas (v1), load,
one rolling update to v2, until every old pod has exited, with 0.3 s of
steady traffic before and after (\`--steady-seconds 0.3\`: no recipe drops
anything outside the rollout). Rollouts back to back
in one run (the kit's \`rollout --rollouts N\`) would not be independent: the
clients' keep-alive connections stay on the first pods they reached, so the
second rollout of a run finds no connection on the pods it stops (measured:
terminus, \`hot-loop\`, 50 drops in the first rollout and 0 in the second). The
think times of the \`idle-pool\` clients come from \`--seed <n>\` with n the
rollout's number, the same sequence for every recipe. The replicas run the
recipes compiled to JavaScript (\`matrix/build/\`), as an image would.`

function readingSection (): string {
  return `## How to read a cell

\`**17** (15–19) · reset, 503 · 10.0 s\`:

- **17**: requests dropped per rollout, the mean over the rollouts; (15–19): the
  fewest and the most in one rollout. A dropped request is one that did not get
  a 2xx: a non-2xx answer (\`503\` from Fastify's \`return503OnClosing\`, or
  from HAProxy when it cannot reach the pod; \`502\` from nginx when its tries
  run out) or a transport failure (\`reset\`:
  ECONNRESET/EPIPE or the connection closed with the request in flight;
  \`refused\`; \`timeout\`; \`cut\`: an SSE stream ended without a \`retry:\`
  hint, so the client could not tell a hand-over from a failure). The kinds
  are listed most frequent first.
- **10.0 s**: the slowest pod of those rollouts, from its deletion (the start
  of the 5 s preStop sleep, except in \`no-prestop\`) to its exit. † when a pod
  was still running at \`terminationGracePeriodSeconds\` (30 s) and was killed.
- \`n/a: <why>\`: the cell cannot be run that way; \`not run\`: not in this run's
  selection.

The numbers come from the load-test kit ([docs/load-test.md](load-test.md)):
every request is counted when written and settled exactly once (sent = 2xx +
non-2xx + failed). They depend on the machine's timing: compare recipes
within one table, not with numbers from another machine.`
}

function runsSection (runs: readonly RunRow[], missing: readonly string[]): string {
  const lines = [
    '## Every run',
    '',
    '<details><summary>One line per rollout</summary>',
    '',
    '| recipe | proxy | scenario | rollout | sent | dropped | by kind | slowest pod |',
    '|---|---|---|---|---|---|---|---|'
  ]
  for (const { recipe, proxy, repetition, run } of runs) {
    const kinds = [...Object.entries(run.counts.statuses), ...Object.entries(run.counts.failed)].map(([k, n]) => `${n} × ${k.replace(/^status /, '')}`).join(', ')
    const gone = run.pods.map((p) => p.goneAfterDeletionMs).filter((n): n is number => n !== undefined)
    const slowest = gone.length === 0 ? '-' : formatSeconds(Math.max(...gone))
    lines.push(`| \`${recipe}\` | ${proxy} | ${run.scenario} | ${repetition} | ${run.counts.sent} | ${run.error === undefined ? run.dropped : `run failed: ${run.error}`} | ${kinds === '' ? '-' : kinds} | ${slowest} |`)
  }
  lines.push('', '</details>')
  if (missing.length > 0) lines.push('', `Kit calls without a report (not in the tables): ${missing.join('; ')}.`)
  return lines.join('\n')
}

function recipesSection (recipes: readonly Recipe[]): string {
  return [
    '## The recipes',
    '',
    'One server file each, with the same routes as the example service (`GET /`, `GET /slow?ms=`, `POST /echo`, `GET /events`; h2c when the kit sets `HTTP2=1`), from `matrix/routes.ts`. Each file cites the README section it follows.',
    '',
    '| recipe | readiness probe | set up as |',
    '|---|---|---|',
    ...recipes.map((r) => `| ${r.title}: \`matrix/recipes/${r.id}.ts\` | \`${r.readinessPath}\` | ${r.setup} |`)
  ].join('\n')
}

export function renderDocument (input: DocumentInput): string {
  const { record, results, recipes } = input
  const draft = input.draft === undefined ? [] : [`> **Draft.** ${input.draft}`, '']
  return [
    '# Results: the usual shutdown recipes through a rolling update',
    '',
    '<!-- Written by `npm run matrix` (matrix/): edit the generator, not this file. -->',
    '',
    ...draft,
    'Each recipe below runs as 3 real replicas behind a simulated Kubernetes',
    'Service, rolled from v1 to v2 the way a Deployment does (maxSurge 1,',
    'maxUnavailable 0, preStop sleep 5 s, terminationGracePeriodSeconds 30,',
    'endpoint changes 1.5 s late), under each load scenario of the',
    '[load-test kit](load-test.md#scenarios), counting every request. Each recipe is',
    'set up the way its own README recommends. `npm run matrix` regenerates this',
    'page and its picture.',
    '',
    `![Dropped requests per rollout, by recipe, proxy and scenario](${input.picture})`,
    '',
    ...results.tables.flatMap((t) => [proxyTable(t, recipes), '']),
    summarySection(results, recipes),
    '',
    readingSection(),
    '',
    planSection(record, results),
    '',
    recipesSection(recipes),
    '',
    machineSection(record, results),
    '',
    runsSection(results.runs, results.missingReports),
    ''
  ].join('\n')
}
