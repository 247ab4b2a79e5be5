/**
 * Scaling as an HPA does it: `replicas` -> twice as many, and back. A
 * scale-up only adds endpoints, so connections already open stay where they
 * are; a scale-down deletes the pods the ReplicaSet controller ranks first.
 */
import type { Cluster } from '../deployment.js'
import type { Pod } from '../pod.js'
import type { Strategy } from './strategy.js'

export const scaleUp: Strategy = {
  name: 'scale-up',
  description: 'the Deployment scaled from its replicas to twice as many under load (an HPA adding pods)',
  deploy: async ({ cluster }, moves) => {
    await cluster.rollout('v1')
    moves.label(cluster.live, 'original')
  },
  move: async (ctx, moves) => {
    const { cluster } = ctx
    const { replicas } = cluster.spec.strategy
    moves.act(ctx, `scale ${replicas} -> ${2 * replicas}`)
    const added = cluster.createPods('v1', replicas)
    moves.label(added, 'added')
    await cluster.available(added)
    await moves.hold(ctx)
  }
}

/**
 * The pods the ReplicaSet controller deletes first on a scale-down, when all
 * are ready (the strategy waited for that): the most recently ready, and of
 * those ready at the same moment the newest.
 */
export function scaleDownVictims (cluster: Pick<Cluster, 'live' | 'pods' | 'readySince'>, count: number): Pod[] {
  const rank = (p: Pod): [number, number] => [cluster.readySince(p) as number, cluster.pods.indexOf(p)]
  return [...cluster.live]
    .sort((a, b) => {
      const [readyA, createdA] = rank(a)
      const [readyB, createdB] = rank(b)
      return readyB !== readyA ? readyB - readyA : createdB - createdA
    })
    .slice(0, count)
}

export const scaleDown: Strategy = {
  name: 'scale-down',
  description: 'the Deployment scaled from twice its replicas back to them under load; the pods an HPA\'s ReplicaSet would delete',
  deploy: async ({ cluster }) => {
    await cluster.rollout('v1')
    await cluster.available(cluster.createPods('v1', cluster.spec.strategy.replicas))
  },
  move: async (ctx, moves) => {
    const { cluster } = ctx
    const { replicas } = cluster.spec.strategy
    moves.act(ctx, `scale ${2 * replicas} -> ${replicas}`)
    const victims = scaleDownVictims(cluster, replicas)
    moves.label(cluster.live, 'kept')
    moves.label(victims, 'removed')
    for (const p of victims) p.delete()
    await moves.hold(ctx)
  }
}
