/**
 * `npm run matrix`: every usual shutdown recipe through the load-test kit's
 * rolling update, side by side, written to docs/results.md and its picture.
 * Usage: `npm run matrix -- --help`.
 */
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { MatrixError, UsageError } from './errors.js'
import { heatmap } from './heatmap.js'
import { checkRecipesBuilt, kitArgs, kitHasFlag, runKit } from './kit.js'
import { machine, roundedLoad, versions } from './machine.js'
import { renderDocument } from './markdown.js'
import {
  DEFAULT_PLAN, DEFAULT_ROLLOUTS, invocations, plannedCells, PROXIES, SCENARIOS,
  type Invocation, type Proxy, type ScenarioName, type Selection
} from './plan.js'
import { checkRecipes, RECIPES } from './recipes.js'
import { emptyRecord, readKitReport, readRecord, RECORD_FILE, writeRecord, type MatrixRecord } from './record.js'
import { results } from './table.js'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')
/**
 * Wall time of one kit run (one scenario, one rollout, its share of the kit
 * call around it), for --plan, measured on a quiet 2-core machine on the
 * kernel data path (2026-12-07, docs/results.md: 112 runs in 29.2 min, 15.1 s
 * per run and 1 s per kit call); 20 s while other test suites ran.
 */
const SECONDS_PER_RUN = { quiet: 15.5, busy: 20 }

const HELP = `usage: npm run matrix -- [options]

Runs every recipe of matrix/recipes/ through the load-test kit (one rolling
update per run, --rollouts times per cell) and writes docs/results.md and
docs/results.svg. Default plan: every scenario through L4; through HAProxy
(l7) ${DEFAULT_PLAN.l7.join(', ')}; through nginx ${DEFAULT_PLAN.nginx.join(', ')}.

  --recipes <a,b>       default: all (${RECIPES.map((r) => r.id).join(', ')})
  --proxies <a,b>       default: ${PROXIES.join(',')}
  --scenarios <a,b>     run these through every selected proxy instead of the default plan
                        (${SCENARIOS.join(', ')})
  --full                every scenario through every proxy (about twice as long)
  --rollouts <n>        rollouts per cell, each its own run, n >= 1 (default ${DEFAULT_ROLLOUTS}; the document needs >= 2)
  --network <kernel|userspace>  the kit's data path, passed to the kit when it has --network;
                        without it the kit has only its user-space relay (userspace)
  --out <dir>           recorded runs (default reports/matrix; emptied first unless --append)
  --append              add to the runs already in --out
  --doc <file>          default docs/results.md (its picture: same name, .svg)
  --draft <text>        mark the document as a draft, with this note
  --render-only <dir>   write the document from recorded runs in <dir>, run nothing
  --plan                print the kit calls and an estimate of the time, run nothing
  -h, --help
`

const OPTIONS = {
  recipes: { type: 'string' },
  proxies: { type: 'string' },
  scenarios: { type: 'string' },
  full: { type: 'boolean', default: false },
  rollouts: { type: 'string', default: String(DEFAULT_ROLLOUTS) },
  network: { type: 'string' },
  out: { type: 'string', default: 'reports/matrix' },
  append: { type: 'boolean', default: false },
  doc: { type: 'string', default: 'docs/results.md' },
  draft: { type: 'string' },
  'render-only': { type: 'string' },
  plan: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false }
} as const

function list<T extends string> (flag: string, raw: string | undefined, allowed: readonly T[]): T[] | undefined {
  if (raw === undefined) return undefined
  const names = raw.split(',').map((s) => s.trim()).filter((s) => s !== '')
  const unknown = names.filter((n) => !allowed.includes(n as T))
  if (names.length === 0 || unknown.length > 0) throw new UsageError(`--${flag} takes a comma-separated list of ${allowed.join(', ')}; got ${JSON.stringify(raw)}`)
  return names as T[]
}

function selection (f: { recipes?: string, proxies?: string, scenarios?: string, full: boolean, rollouts: string }): Selection {
  const ids = list('recipes', f.recipes, RECIPES.map((r) => r.id))
  const rollouts = Number(f.rollouts)
  if (!Number.isInteger(rollouts) || rollouts < 1) throw new UsageError(`--rollouts must be a whole number >= 1, got ${JSON.stringify(f.rollouts)}`)
  const scenarios = list<ScenarioName>('scenarios', f.scenarios, SCENARIOS)
  if (f.full && scenarios !== undefined) throw new UsageError('--full runs every scenario: leave out --scenarios')
  return {
    recipes: ids === undefined ? RECIPES : RECIPES.filter((r) => ids.includes(r.id)),
    proxies: list<Proxy>('proxies', f.proxies, PROXIES) ?? PROXIES,
    ...(scenarios === undefined ? {} : { scenarios }),
    full: f.full,
    rollouts
  }
}

/** `--network` goes to the kit as given when the kit has it; without it only `userspace` means anything. */
function networkArgs (network: string | undefined): { args: string[], label: string } {
  if (network !== undefined && network !== 'kernel' && network !== 'userspace') throw new UsageError(`--network must be kernel or userspace, got ${JSON.stringify(network)}`)
  if (kitHasFlag(ROOT, '--network')) return network === undefined ? { args: [], label: 'the kit\'s default' } : { args: ['--network', network], label: network }
  if (network === 'kernel') throw new UsageError('--network kernel: this kit has no --network flag yet (only its user-space relay); leave it out or pass --network userspace')
  return { args: [], label: 'userspace (the kit\'s user-space relay; this kit has no --network)' }
}

function render (outDir: string, docPath: string, draft: string | undefined): void {
  const record = readRecord(outDir)
  const picture = docPath.replace(/\.md$/, '') + '.svg'
  const res = results(outDir, record, RECIPES)
  mkdirSync(dirname(docPath), { recursive: true })
  writeFileSync(docPath, renderDocument({ record, results: res, recipes: RECIPES, picture: relative(dirname(docPath), picture), ...(draft === undefined ? {} : { draft }) }))
  const first = record.sessions[0]
  const subtitle = [
    draft === undefined ? undefined : 'DRAFT',
    `${[...new Set(record.sessions.map((s) => s.rollouts))].join(', ')} rollout(s) per cell`,
    first === undefined ? undefined : `${first.startedAt.slice(0, 10)}, ${first.machine.cores} cores, Node.js ${first.machine.node}`,
    'details: docs/results.md'
  ].filter((x) => x !== undefined).join(' · ')
  writeFileSync(picture, heatmap(res.tables, RECIPES, 'Dropped requests per rollout during a rolling update (npm run matrix)', subtitle))
  process.stderr.write(`wrote ${relative(process.cwd(), docPath)} and ${relative(process.cwd(), picture)}\n`)
}

/** Empties --out, but only when it is the matrix's own (or empty): never a folder of something else. */
function prepareOut (dir: string, append: boolean): MatrixRecord {
  if (append && existsSync(join(dir, RECORD_FILE))) return readRecord(dir)
  if (existsSync(dir) && readdirSync(dir).length > 0) {
    if (!existsSync(join(dir, RECORD_FILE))) throw new UsageError(`--out ${dir} is not empty and holds no ${RECORD_FILE}: refusing to empty it`)
    rmSync(dir, { recursive: true })
  }
  mkdirSync(dir, { recursive: true })
  return emptyRecord()
}

/** An argument as a shell would need it typed back (the document shows the command to rerun). */
const shellWord = (arg: string): string => /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, "'\\''")}'`

function describeCall (call: Invocation, i: number, n: number, rollouts: number): string {
  return `[${i + 1}/${n}] ${call.recipe.id} · ${call.proxy}${call.protocol === 'h2' ? ' · h2' : ''} · ${call.scenarios.join(',')} · rollout ${call.repetition}/${rollouts}`
}

async function runMatrix (sel: Selection, f: { out: string, append: boolean, network?: string }, argv: readonly string[]): Promise<MatrixRecord> {
  const network = networkArgs(f.network)
  checkRecipesBuilt(ROOT, sel.recipes.map((r) => r.id))
  const record = prepareOut(f.out, f.append)
  const packages = [...new Set(['fastify', ...RECIPES.flatMap((r) => r.packages)])]
  const session = record.sessions.length
  record.sessions.push({
    command: `npm run matrix${argv.length > 0 ? ` -- ${argv.map(shellWord).join(' ')}` : ''}`,
    startedAt: new Date().toISOString(),
    machine: machine(),
    versions: versions(ROOT, packages),
    network: network.label,
    rollouts: sel.rollouts
  })
  const calls = invocations(sel)
  for (const [i, call] of calls.entries()) {
    const previous = record.calls.filter((c) => c.recipe === call.recipe.id && c.proxy === call.proxy && c.protocol === call.protocol).length
    const dir = `${call.recipe.id}/${call.proxy}-${call.protocol}/${previous + 1}`
    mkdirSync(join(f.out, dir), { recursive: true })
    const args = kitArgs(call, resolve(f.out, dir), network.args)
    process.stderr.write(`${describeCall(call, i, calls.length, sel.rollouts)}\n`)
    const started = Date.now()
    const exitCode = await runKit(ROOT, args, join(f.out, dir))
    if (exitCode === 2) throw new MatrixError(`the kit refused its flags (exit 2): node ${args.join(' ')}`)
    record.calls.push({ session, recipe: call.recipe.id, proxy: call.proxy, protocol: call.protocol, scenarios: call.scenarios, repetition: call.repetition, dir, args, startedAt: new Date(started).toISOString(), durationMs: Date.now() - started, exitCode })
    writeRecord(f.out, record)
    const report = readKitReport(join(f.out, dir))
    process.stderr.write(`    ${report === undefined ? `no report (kit exit ${exitCode})` : report.runs.map((r) => `${r.scenario}: ${r.error === undefined ? `${r.dropped} dropped of ${r.counts.sent}` : `failed: ${r.error}`}`).join('; ')} (${((Date.now() - started) / 1000).toFixed(1)} s)\n`)
  }
  const s = record.sessions[session]!
  s.finishedAt = new Date().toISOString()
  s.loadAverageAtEnd = roundedLoad()
  writeRecord(f.out, record)
  return record
}

function printPlan (sel: Selection): void {
  const calls = invocations(sel)
  const runs = plannedCells(sel).length * sel.rollouts
  for (const [i, call] of calls.entries()) process.stdout.write(`${describeCall(call, i, calls.length, sel.rollouts)}\n`)
  const minutes = (perRun: number): number => Math.round(runs * perRun / 60)
  process.stdout.write(`${plannedCells(sel).length} cells x ${sel.rollouts} rollouts = ${runs} kit runs in ${calls.length} kit calls: ` +
    `about ${minutes(SECONDS_PER_RUN.quiet)} min on a quiet 2-core machine, ${minutes(SECONDS_PER_RUN.busy)} min on a busy one\n`)
}

async function main (argv: readonly string[]): Promise<number> {
  let f
  try {
    f = parseArgs({ args: [...argv], options: OPTIONS, strict: true, allowPositionals: false }).values
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${HELP}`)
    return 2
  }
  if (f.help) {
    process.stdout.write(HELP)
    return 0
  }
  try {
    checkRecipes()
    if (f['render-only'] !== undefined) {
      render(f['render-only'], f.doc, f.draft)
      return 0
    }
    const sel = selection(f)
    if (f.plan) {
      printPlan(sel)
      return 0
    }
    await runMatrix(sel, f, argv)
    render(f.out, f.doc, f.draft)
    return 0
  } catch (err) {
    if (!(err instanceof MatrixError)) throw err
    process.stderr.write(`${err.message}\n`)
    return err.exitCode
  }
}

process.exitCode = await main(process.argv.slice(2))
