/**
 * The recorded runs arranged as the document shows them: one table per
 * proxy, a row per recipe, a column per scenario that ran through it.
 */
import { join } from 'node:path'
import { summarise, type CellSummary } from './cells.js'
import { kitCannot, PROXIES, SCENARIOS, type Proxy, type ScenarioName } from './plan.js'
import type { Recipe } from './recipes.js'
import { readKitReport, type KitRun, type MatrixRecord } from './record.js'

export type CellState =
  | { readonly state: 'measured', readonly summary: CellSummary }
  | { readonly state: 'n/a', readonly why: string }
  | { readonly state: 'not run' }

export interface ProxyTable {
  readonly proxy: Proxy
  readonly scenarios: readonly ScenarioName[]
  /** By recipe id, then scenario. */
  readonly cells: ReadonlyMap<string, ReadonlyMap<ScenarioName, CellState>>
}

export interface RunRow {
  readonly recipe: string
  readonly proxy: Proxy
  readonly repetition: number
  readonly run: KitRun
}

export interface Results {
  readonly tables: readonly ProxyTable[]
  /** Every run, in the order the kit made them. */
  readonly runs: readonly RunRow[]
  /** Kit calls whose report.json is missing (the kit failed before writing it). */
  readonly missingReports: readonly string[]
}

const key = (recipe: string, proxy: Proxy, scenario: string): string => `${recipe}|${proxy}|${scenario}`

/** Every run of every recorded kit call, grouped by cell. */
export function collect (dir: string, record: MatrixRecord): { byCell: Map<string, KitRun[]>, runs: RunRow[], missingReports: string[] } {
  const byCell = new Map<string, KitRun[]>()
  const runs: RunRow[] = []
  const missingReports: string[] = []
  for (const call of record.calls) {
    const report = readKitReport(join(dir, call.dir))
    if (report === undefined) {
      missingReports.push(`${call.dir} (kit exit code ${call.exitCode})`)
      continue
    }
    for (const run of report.runs) {
      const k = key(call.recipe, call.proxy, run.scenario)
      byCell.set(k, [...(byCell.get(k) ?? []), run])
      runs.push({ recipe: call.recipe, proxy: call.proxy, repetition: call.repetition, run })
    }
  }
  return { byCell, runs, missingReports }
}

export function results (dir: string, record: MatrixRecord, recipes: readonly Recipe[]): Results {
  const { byCell, runs, missingReports } = collect(dir, record)
  const tables: ProxyTable[] = []
  for (const proxy of PROXIES) {
    const scenarios = SCENARIOS.filter((s) => recipes.some((r) => byCell.has(key(r.id, proxy, s))))
    if (scenarios.length === 0) continue
    const cells = new Map<string, Map<ScenarioName, CellState>>()
    for (const recipe of recipes) {
      const row = new Map<ScenarioName, CellState>()
      for (const scenario of scenarios) {
        const why = kitCannot(proxy, scenario) ?? recipe.notApplicable?.[scenario]
        const measured = byCell.get(key(recipe.id, proxy, scenario))
        row.set(scenario, why !== undefined
          ? { state: 'n/a', why }
          : measured === undefined ? { state: 'not run' } : { state: 'measured', summary: summarise(measured) })
      }
      cells.set(recipe.id, row)
    }
    tables.push({ proxy, scenarios, cells })
  }
  return { tables, runs, missingReports }
}
