/**
 * A real rollout on a real cluster, driven through kubectl: start it
 * (`rollout restart` or `set image`), wait for `rollout status`, then wait
 * until no pod of the Deployment is terminating any more — `rollout status`
 * returns while the old pods are still draining, and those are exactly the
 * ones that drop requests.
 */
import { execFile } from 'node:child_process'
import { setTimeout as sleep } from 'node:timers/promises'
import type { ClusterEventLog } from './events.js'

export interface KubectlTarget {
  readonly kubectl: string
  readonly namespace: string
  readonly context?: string
  readonly deployment: string
  /** `container=image` for `kubectl set image`; unset: `kubectl rollout restart`. */
  readonly image?: string
  readonly timeoutMs: number
  readonly pollMs: number
}

export async function kubectl (t: KubectlTarget, args: readonly string[]): Promise<string> {
  const full = [...(t.context === undefined ? [] : ['--context', t.context]), '-n', t.namespace, ...args]
  return await new Promise((resolve, reject) => {
    execFile(t.kubectl, full, { maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err === null) resolve(stdout)
      else reject(new Error(`${t.kubectl} ${full.join(' ')} failed: ${stderr.trim() || err.message}`))
    })
  })
}

interface PodList { items: Array<{ metadata: { name: string, deletionTimestamp?: string, labels?: Record<string, string> } }> }

/** Runs the rollout and resolves when it is complete and no pod is terminating. */
export async function clusterRollout (t: KubectlTarget, timeline: ClusterEventLog): Promise<void> {
  const deadline = Date.now() + t.timeoutMs
  const labels = JSON.parse(await kubectl(t, ['get', 'deployment', t.deployment, '-o', 'jsonpath={.spec.selector.matchLabels}'])) as Record<string, string>
  const selector = Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(',')
  timeline.add('rollout-started', `deployment/${t.deployment}`, t.image ?? 'restart')
  await kubectl(t, t.image === undefined
    ? ['rollout', 'restart', `deployment/${t.deployment}`]
    : ['set', 'image', `deployment/${t.deployment}`, t.image])
  await kubectl(t, ['rollout', 'status', `deployment/${t.deployment}`, `--timeout=${Math.ceil(t.timeoutMs / 1000)}s`])
  timeline.add('rollout-complete', `deployment/${t.deployment}`, t.image ?? 'restart')
  const seen = new Set<string>()
  for (;;) {
    const pods = JSON.parse(await kubectl(t, ['get', 'pods', '-l', selector, '-o', 'json'])) as PodList
    const terminating = pods.items.filter((p) => p.metadata.deletionTimestamp !== undefined).map((p) => p.metadata.name)
    for (const name of terminating) if (!seen.has(name)) { seen.add(name); timeline.add('deleted', name, '?') }
    for (const name of seen) if (!terminating.includes(name)) { seen.delete(name); timeline.add('exited', name, '?') }
    if (terminating.length === 0) return
    if (Date.now() > deadline) throw new Error(`pods still terminating after ${t.timeoutMs / 1000}s: ${terminating.join(', ')}`)
    await sleep(t.pollMs)
  }
}
