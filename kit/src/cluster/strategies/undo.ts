/**
 * `kubectl rollout undo` midway (k8s/scripts/rollout.sh undo): the rolling
 * update to v2 is taken over by one back to v1 once half of the new pods are
 * ready, so old pods come back and the new ones go.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import type { Strategy } from './strategy.js'

/** How often the strategy looks whether the rollout is midway. */
const POLL_MS = 100

export const undo: Strategy = {
  name: 'undo',
  description: 'a rolling update to v2 undone midway (rollout undo): back to v1',
  deploy: async ({ cluster }) => { await cluster.rollout('v1') },
  move: async (ctx, moves) => {
    const { cluster } = ctx
    const half = Math.ceil(cluster.spec.strategy.replicas / 2)
    moves.act(ctx, 'rollout to v2')
    const forward = cluster.rollout('v2')
    // Awaited below; a crash fails the loop first, and that is the run's error.
    forward.catch(() => {})
    // Bounded by the rollout: once it is done every v2 pod is ready; a crash throws.
    while (cluster.live.filter((p) => p.version === 'v2' && p.ready).length < half) {
      cluster.assertRunning()
      await sleep(POLL_MS)
    }
    moves.act(ctx, 'rollout undo')
    await Promise.all([forward, cluster.rollout('v1')])
    await moves.hold(ctx)
  }
}
