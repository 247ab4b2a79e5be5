/**
 * Blue-green as k8s/scripts/blue-green-switch.sh does it: two Deployments,
 * one Service whose selector names a colour. Green comes up beside blue
 * without traffic; the selector switches to green, back to blue, to green
 * again; then blue is deleted. A switch changes the endpoints only: a
 * connection open to the other colour stays there until it ends.
 */
import type { Strategy } from './strategy.js'

export const blueGreen: Strategy = {
  name: 'blue-green',
  description: 'green up beside blue, the Service switched to green, back to blue, to green again, then blue deleted',
  deploy: async ({ cluster }) => {
    cluster.select((p) => p.version === 'blue')
    await cluster.rollout('blue')
  },
  move: async (ctx, moves) => {
    const { cluster } = ctx
    moves.act(ctx, 'green up')
    const green = cluster.createPods('green', cluster.spec.strategy.replicas)
    await cluster.available(green)
    for (const colour of ['green', 'blue', 'green']) {
      moves.act(ctx, `switch to ${colour}`)
      cluster.select((p) => p.version === colour)
      await moves.hold(ctx)
    }
    moves.act(ctx, 'blue deleted')
    for (const p of cluster.live.filter((x) => x.version === 'blue')) p.delete()
  }
}
