/** The rolling update (`kubectl set image`), once or back to back: v1 -> v2 (-> v3 ...). */
import type { Strategy } from './strategy.js'

export const rolling: Strategy = {
  name: 'rolling',
  description: 'a rolling update v1 -> v2 under the Deployment\'s maxSurge and maxUnavailable',
  deploy: async ({ cluster }) => { await cluster.rollout('v1') },
  move: async (ctx) => {
    for (let i = 1; i <= ctx.rollouts; i++) {
      ctx.phase(`rollout to v${i + 1}${ctx.rollouts > 1 ? ` (${i}/${ctx.rollouts})` : ''}`)
      await ctx.cluster.rollout(`v${i + 1}`)
    }
  }
}
