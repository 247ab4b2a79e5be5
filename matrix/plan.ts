/**
 * What the matrix runs: which scenarios through which proxy for which
 * recipe, how many rollouts of each, and in what order the kit is called.
 */
import type { Recipe } from './recipes.js'

export const SCENARIOS = ['hot-loop', 'slow', 'post', 'idle-pool', 'sse', 'no-prestop', 'grpc'] as const
export type ScenarioName = typeof SCENARIOS[number]

export const PROXIES = ['l4', 'l7', 'nginx'] as const
export type Proxy = typeof PROXIES[number]

export const PROXY_TITLES: Readonly<Record<Proxy, string>> = Object.freeze({
  l4: 'L4, a kube-proxy-like balancer',
  l7: 'HAProxy, L7 with upstream keep-alive',
  nginx: 'nginx, set up like ingress-nginx'
})

/** For narrow places: the picture's column groups, the summary's cell names. */
export const PROXY_SHORT: Readonly<Record<Proxy, string>> = Object.freeze({ l4: 'L4', l7: 'HAProxy', nginx: 'nginx' })

/** The HTTP/2 scenarios run with `--protocol h2` (every replica then serves h2c). */
export const H2_SCENARIOS: ReadonlySet<string> = new Set(['grpc'])

export const protocolOf = (scenario: string): 'h1' | 'h2' => H2_SCENARIOS.has(scenario) ? 'h2' : 'h1'

/** Cells the kit itself cannot run, whatever the recipe. */
export function kitCannot (proxy: Proxy, scenario: string): string | undefined {
  if (proxy === 'nginx' && protocolOf(scenario) === 'h2') return 'the kit\'s nginx talks HTTP/1.1 to the pods'
  return undefined
}

/**
 * The default plan, sized for 30 minutes on 2 cores (docs/results.md says
 * why, with the validation runs behind it): every scenario but `post`
 * through the L4 balancer, and through the proxies the one scenario whose
 * outcome a proxy changes.
 */
export const DEFAULT_PLAN: Readonly<Record<Proxy, readonly ScenarioName[]>> = Object.freeze({
  l4: ['hot-loop', 'slow', 'idle-pool', 'sse', 'no-prestop', 'grpc'],
  l7: ['no-prestop'],
  nginx: ['no-prestop']
})

export const DEFAULT_ROLLOUTS = 2

export interface Selection {
  readonly recipes: readonly Recipe[]
  readonly proxies: readonly Proxy[]
  /** Undefined: each proxy's scenarios from DEFAULT_PLAN; else these through every selected proxy. */
  readonly scenarios?: readonly ScenarioName[]
  /** Every scenario through every proxy, ignoring DEFAULT_PLAN. */
  readonly full: boolean
  readonly rollouts: number
}

export interface Cell {
  readonly recipe: string
  readonly proxy: Proxy
  readonly scenario: ScenarioName
}

/** One call of the kit: one recipe, one proxy, one protocol, several scenarios, one rollout each. */
export interface Invocation {
  readonly recipe: Recipe
  readonly proxy: Proxy
  readonly protocol: 'h1' | 'h2'
  readonly scenarios: readonly ScenarioName[]
  /** 1-based: the n-th rollout of each of these cells. */
  readonly repetition: number
}

export function scenariosFor (selection: Selection, proxy: Proxy): readonly ScenarioName[] {
  if (selection.full) return SCENARIOS
  return selection.scenarios ?? DEFAULT_PLAN[proxy]
}

/** The cells of the selection that can run, in table order. */
export function plannedCells (selection: Selection): Cell[] {
  const cells: Cell[] = []
  for (const recipe of selection.recipes) {
    for (const proxy of selection.proxies) {
      for (const scenario of scenariosFor(selection, proxy)) {
        if (kitCannot(proxy, scenario) === undefined && recipe.notApplicable?.[scenario] === undefined) {
          cells.push({ recipe: recipe.id, proxy, scenario })
        }
      }
    }
  }
  return cells
}

/**
 * The kit calls, repetitions outermost: a matrix stopped half-way still has
 * one rollout of every cell rather than all rollouts of half of them.
 */
export function invocations (selection: Selection): Invocation[] {
  const cells = plannedCells(selection)
  const out: Invocation[] = []
  for (let repetition = 1; repetition <= selection.rollouts; repetition++) {
    for (const recipe of selection.recipes) {
      for (const proxy of selection.proxies) {
        for (const protocol of ['h1', 'h2'] as const) {
          const scenarios = cells
            .filter((c) => c.recipe === recipe.id && c.proxy === proxy && protocolOf(c.scenario) === protocol)
            .map((c) => c.scenario)
          if (scenarios.length > 0) out.push({ recipe, proxy, protocol, scenarios, repetition })
        }
      }
    }
  }
  return out
}
