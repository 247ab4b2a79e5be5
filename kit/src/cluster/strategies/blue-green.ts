/**
 * Blue-green as k8s/scripts/blue-green-switch.sh does it: two Deployments,
 * one Service whose selector names a colour. Green comes up beside blue
 * without traffic (before the load starts); the selector switches to green,
 * back to blue, to green again; then blue is deleted. A switch changes the
 * endpoints only: a connection open to the other colour stays there until it
 * ends.
 */
import type { Strategy } from './strategy.js'

export const blueGreen: Strategy = {
  name: 'blue-green',
  description: 'green up beside blue, the Service switched to green, back to blue, to green again, then blue deleted',
  // Green comes up before the load: on one small machine, three replicas
  // starting at once under load starve the ones serving (measured: requests
  // timed out), which a cluster's separate nodes do not; green has no
  // traffic until the switch either way.
  deploy: async ({ cluster }) => {
    cluster.select((p) => p.version === 'blue')
    await cluster.rollout('blue')
    await cluster.available(cluster.createPods('green', cluster.spec.strategy.replicas))
  },
  move: async (ctx, moves) => {
    const { cluster } = ctx
    for (const colour of ['green', 'blue', 'green']) {
      moves.act(ctx, `switch to ${colour}`)
      cluster.select((p) => p.version === colour)
      await moves.hold(ctx)
    }
    moves.act(ctx, 'blue deleted')
    for (const p of cluster.live.filter((x) => x.version === 'blue')) p.delete()
  }
}
