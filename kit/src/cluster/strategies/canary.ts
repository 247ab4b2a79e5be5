/**
 * Canaries. By replica count (the k8s/overlays/canary tracks behind one
 * Service): the canary's share is its share of the endpoints, as far as
 * connections let it. By weight (an ingress's canary weight, Istio, Gateway
 * API): an L7 proxy picks the canary for that share of the requests.
 */
import type { Cluster } from '../deployment.js'
import type { Pod } from '../pod.js'
import type { Strategy } from './strategy.js'

export const canary: Strategy = {
  name: 'canary',
  description: 'a replica-count canary: one v2 pod beside the stable pods behind the same Service, then removed',
  deploy: async ({ cluster }, moves) => {
    await cluster.rollout('v1')
    moves.label(cluster.live, 'stable')
  },
  move: async (ctx, moves) => {
    const { cluster } = ctx
    moves.act(ctx, 'canary: 1 pod of v2')
    const pods = cluster.createPods('v2', 1)
    moves.label(pods, 'canary')
    await cluster.available(pods)
    await moves.hold(ctx)
    moves.act(ctx, 'canary removed')
    for (const p of pods) p.delete()
    await moves.hold(ctx)
  }
}

/** The canary weight steps, in percent of the requests. */
export const CANARY_WEIGHTS = Object.freeze([10, 25, 50, 100])

/** Each pod's weight: the canary's percentage split over its pods, the rest over the stable ones. */
function weights (cluster: Cluster, percent: number): (pod: Pod) => number {
  const live = cluster.live
  const canaries = live.filter((p) => p.version === 'v2').length
  const stable = live.length - canaries
  return (pod) => pod.version === 'v2' ? percent / canaries : (100 - percent) / stable
}

export const canaryWeighted: Strategy = {
  name: 'canary-weighted',
  description: `a weighted canary through the L7 proxy: one v2 pod at ${CANARY_WEIGHTS.join(' -> ')} % of the requests`,
  needsL7: true,
  deploy: async ({ cluster }, moves) => {
    await cluster.rollout('v1')
    moves.label(cluster.live, 'stable')
    const pods = cluster.createPods('v2', 1)
    moves.label(pods, 'canary')
    cluster.weigh(weights(cluster, 0))
    await cluster.available(pods)
  },
  move: async (ctx, moves) => {
    const { cluster } = ctx
    for (const percent of CANARY_WEIGHTS) {
      moves.act(ctx, `canary weight ${percent} %`)
      cluster.weigh(weights(cluster, percent))
      await moves.hold(ctx)
    }
  }
}
