/** Every strategy `rollout --strategy` knows, by name. */
import { blueGreen } from './blue-green.js'
import { canary, canaryWeighted } from './canary.js'
import { rolling } from './rolling.js'
import { scaleDown, scaleUp } from './scale.js'
import type { Strategy } from './strategy.js'
import { undo } from './undo.js'

export { Moves, type Strategy, type StrategyContext } from './strategy.js'

export const STRATEGIES: readonly Strategy[] = Object.freeze([rolling, scaleUp, scaleDown, blueGreen, canary, canaryWeighted, undo])
