/** `rollout --strategy` and `--hold-seconds`: what the operator does under load, and how long each move is watched. */
import type { ProxyMode } from '../cluster/spec.js'
import { STRATEGIES, type Strategy } from '../cluster/strategies/index.js'
import { secondsFlag, UsageError } from './command.js'

export const STRATEGY_FLAGS = {
  strategy: {
    type: 'string',
    value: '<name>',
    group: 'Deployment (defaults: the reference manifest)',
    default: 'rolling',
    help: `what the operator does under load, of\n${STRATEGIES.map((x) => `${x.name}: ${x.description}`).join('\n')}`
  },
  'hold-seconds': {
    type: 'string',
    value: '<s>',
    group: 'Deployment (defaults: the reference manifest)',
    default: '60',
    help: 'how long each traffic move (scale, switch, weight) is watched before the next'
  }
} as const

/** The strategy and hold time the flags name; a weighted canary needs an L7 proxy. */
export function strategyFlag (f: { readonly strategy: string, readonly 'hold-seconds': string }, proxy: ProxyMode): { strategy: Strategy, holdMs: number } {
  const strategy = STRATEGIES.find((x) => x.name === f.strategy)
  if (strategy === undefined) throw new UsageError(`--strategy must be one of ${STRATEGIES.map((x) => x.name).join(', ')}, got ${JSON.stringify(f.strategy)}`)
  if (strategy.needsL7 === true && proxy === 'l4') throw new UsageError(`--strategy ${strategy.name} moves traffic by weight, which kube-proxy cannot: use --proxy l7 or --proxy nginx`)
  return { strategy, holdMs: secondsFlag('hold-seconds', f['hold-seconds']) }
}
