import type { Rule } from '../context.js'
import { asNumber, asString, get, maxUnavailableCount, kindOf, nameOf, records, selects, stringMap } from '../object.js'

export const singleReplica: Rule = {
  meta: {
    id: 'single-replica',
    severity: 'error',
    why: 'With one replica, a node drain, an eviction or a crash leaves no pod to serve: every request fails until a new pod is ready.',
    fix: 'Run at least 2 replicas (3 recommended), or let a HorizontalPodAutoscaler with minReplicas >= 2 own the count.'
  },
  check (ctx, report) {
    for (const w of ctx.workloads) {
      if (w.hpa === undefined && w.minReplicas === 1) report(w.source, ['spec', 'replicas'], 'runs a single replica')
    }
  }
}

export const hpaMinReplicas: Rule = {
  meta: {
    id: 'hpa-min-replicas',
    severity: 'error',
    why: 'The autoscaler may scale down to a single pod, which then takes every request alone: its drain or eviction fails them all.',
    fix: 'Set spec.minReplicas to at least 2 (3 recommended).'
  },
  check (ctx, report) {
    for (const w of ctx.workloads) {
      if (w.hpa !== undefined && w.minReplicas < 2) report(w.hpa, ['spec', 'minReplicas'], `minReplicas is ${w.minReplicas} (default 1)`)
    }
  }
}

export const replicasWithHpa: Rule = {
  meta: {
    id: 'replicas-with-hpa',
    severity: 'warning',
    why: 'Every `kubectl apply` resets spec.replicas to the file\'s number, scaling the autoscaled Deployment down (many pods drained at once) until the autoscaler reacts.',
    fix: 'Remove spec.replicas from the Deployment and let the HorizontalPodAutoscaler own it.'
  },
  check (ctx, report) {
    for (const w of ctx.workloads) {
      if (w.hpa !== undefined && get(w.source.object, ['spec', 'replicas']) !== undefined) {
        report(w.source, ['spec', 'replicas'], `spec.replicas is set although HorizontalPodAutoscaler/${nameOf(w.hpa)} scales this Deployment`)
      }
    }
  }
}

export const recreateStrategy: Rule = {
  meta: {
    id: 'recreate-strategy',
    severity: 'error',
    why: 'The Recreate strategy stops every old pod before starting new ones: nothing serves in between.',
    fix: 'Use strategy.type RollingUpdate with maxSurge 1 and maxUnavailable 0.'
  },
  check (ctx, report) {
    for (const w of ctx.workloads) {
      if (get(w.source.object, ['spec', 'strategy', 'type']) === 'Recreate') report(w.source, ['spec', 'strategy', 'type'], 'strategy is Recreate')
    }
  }
}

export const maxUnavailable: Rule = {
  meta: {
    id: 'max-unavailable',
    severity: 'error',
    why: 'maxUnavailable > 0 lets the rollout stop old pods before their replacements are ready; with few replicas that removes a large share of the capacity and the remaining pods overload (or none is left).',
    fix: 'Set strategy.rollingUpdate.maxUnavailable: 0 and maxSurge: 1, so that a new pod is available before an old one stops.'
  },
  check (ctx, report) {
    for (const w of ctx.workloads) {
      if (get(w.source.object, ['spec', 'strategy', 'type']) === 'Recreate') continue
      const raw = get(w.source.object, ['spec', 'strategy', 'rollingUpdate', 'maxUnavailable']) ?? '25%'
      const unavailable = maxUnavailableCount(raw, w.minReplicas)
      if (unavailable === undefined || unavailable < 1) continue
      const share = Math.round((100 * unavailable) / w.minReplicas)
      const explicit = get(w.source.object, ['spec', 'strategy', 'rollingUpdate', 'maxUnavailable']) !== undefined
      const message = `maxUnavailable ${String(raw)}${explicit ? '' : ' (the default)'} lets ${unavailable} of ${w.minReplicas} pods (${share} %) be down during a rollout`
      // With 4 or more replicas a 25 % dip is a capacity choice, not a certain outage.
      if (w.minReplicas <= 3 || share > 25) report(w.source, ['spec', 'strategy', 'rollingUpdate', 'maxUnavailable'], message)
    }
  }
}

export const minReadySeconds: Rule = {
  meta: {
    id: 'min-ready-seconds',
    severity: 'warning',
    why: 'With minReadySeconds 0 the rollout stops an old pod the instant a new one turns ready, before kube-proxy and the ingress (about 1 s, some several seconds) send it traffic; a pod that crashes right after its first ready probe also counts as available.',
    fix: 'Set spec.minReadySeconds to at least the endpoint propagation time (5 in k8s/base).'
  },
  check (ctx, report) {
    for (const w of ctx.workloads) {
      const value = asNumber(get(w.source.object, ['spec', 'minReadySeconds'])) ?? 0
      if (value === 0) report(w.source, ['spec', 'minReadySeconds'], 'minReadySeconds is 0 (the default)')
    }
  }
}

export const noPdb: Rule = {
  meta: {
    id: 'no-pdb',
    severity: 'error',
    why: 'Without a PodDisruptionBudget a node drain or cluster upgrade may evict every replica at once.',
    fix: 'Add a PodDisruptionBudget selecting the pods, with maxUnavailable: 1.'
  },
  check (ctx, report) {
    const pdbs = ctx.ofKind('PodDisruptionBudget')
    for (const w of ctx.workloads) {
      const covered = pdbs.some((p) => selects(stringMap(get(p.object, ['spec', 'selector', 'matchLabels'])), w.templateLabels))
      if (!covered) report(w.source, ['spec', 'template', 'metadata', 'labels'], 'no PodDisruptionBudget selects these pods')
    }
  }
}

export const pdbBlocksEviction: Rule = {
  meta: {
    id: 'pdb-blocks-eviction',
    severity: 'warning',
    why: 'A budget that allows no disruption blocks node drains and cluster upgrades forever; operators then force them, evicting without any budget.',
    fix: 'Use maxUnavailable: 1 (it keeps working when the replica count changes).'
  },
  check (ctx, report) {
    for (const pdb of ctx.ofKind('PodDisruptionBudget')) {
      const selector = stringMap(get(pdb.object, ['spec', 'selector', 'matchLabels']))
      const target = ctx.workloads.find((w) => selects(selector, w.templateLabels))
      const replicas = target?.minReplicas
      const maxUnav = get(pdb.object, ['spec', 'maxUnavailable'])
      const minAvail = get(pdb.object, ['spec', 'minAvailable'])
      if (maxUnav !== undefined && (maxUnav === 0 || maxUnav === '0%')) {
        report(pdb, ['spec', 'maxUnavailable'], `maxUnavailable ${String(maxUnav)} allows no eviction`)
      } else if (minAvail === '100%' || (replicas !== undefined && typeof minAvail === 'number' && minAvail >= replicas)) {
        report(pdb, ['spec', 'minAvailable'], `minAvailable ${String(minAvail)} with ${replicas ?? 'any number of'} replicas allows no eviction`)
      }
    }
  }
}

export const topologySpreadMatchLabelKeys: Rule = {
  meta: {
    id: 'topology-spread-match-label-keys',
    severity: 'warning',
    why: 'During a rollout the spread also counts the old pods that are about to leave, so new pods pile up in the zones or nodes the old ones occupied less, and end up unbalanced.',
    fix: 'Add matchLabelKeys: [pod-template-hash] to each topologySpreadConstraint (Kubernetes >= 1.27).'
  },
  check (ctx, report) {
    for (const w of ctx.workloads) {
      records(w.podSpec.topologySpreadConstraints).forEach((c, i) => {
        const keys = Array.isArray(c.matchLabelKeys) ? c.matchLabelKeys : []
        if (!keys.includes('pod-template-hash')) {
          report(w.source, [...w.podSpecPath, 'topologySpreadConstraints', i], `spread over ${asString(c.topologyKey) ?? '?'} has no matchLabelKeys: [pod-template-hash]`)
        }
      })
    }
  }
}

/** A Service whose selector matches no pod template of the unit sends traffic nowhere. */
export const serviceSelectorMismatch: Rule = {
  meta: {
    id: 'service-selector-mismatch',
    severity: 'error',
    why: 'A Service whose selector matches none of the pods has no endpoints: every request to it fails.',
    fix: 'Make spec.selector a subset of the pod template labels of the Deployment it fronts.'
  },
  check (ctx, report) {
    if (ctx.workloads.length === 0) return
    for (const svc of ctx.ofKind('Service')) {
      const selector = stringMap(get(svc.object, ['spec', 'selector']))
      if (Object.keys(selector).length === 0) continue
      if (!ctx.workloads.some((w) => selects(selector, w.templateLabels))) {
        const wanted = Object.entries(selector).map(([k, v]) => `${k}=${v}`).join(',')
        report(svc, ['spec', 'selector'], `selector ${wanted} matches no pod template (${ctx.workloads.map((w) => `${kindOf(w.source)}/${nameOf(w.source)}`).join(', ')})`)
      }
    }
  }
}
