import type { Rule } from '../context.js'
import { mutableImageTag, npmStart } from './container.js'
import { livenessChecksDependencies, livenessSameAsReadiness, noReadinessProbe, probeTimeout, slowStartWithoutStartupProbe } from './probes.js'
import { hpaMinReplicas, maxUnavailable, minReadySeconds, noPdb, pdbBlocksEviction, recreateStrategy, replicasWithHpa, serviceSelectorMismatch, singleReplica, topologySpreadMatchLabelKeys } from './rollout.js'
import { envMismatch, gracePeriodBudget, noPrestopDelay, prestopExecSleep, prestopTooShort } from './termination.js'
import { proxyIdleTimeout, proxyTimeout } from './traffic.js'

/** Every rule, in the order findings are listed. */
export const RULES: readonly Rule[] = Object.freeze([
  recreateStrategy,
  maxUnavailable,
  singleReplica,
  hpaMinReplicas,
  replicasWithHpa,
  minReadySeconds,
  noReadinessProbe,
  livenessSameAsReadiness,
  livenessChecksDependencies,
  probeTimeout,
  slowStartWithoutStartupProbe,
  noPrestopDelay,
  prestopExecSleep,
  prestopTooShort,
  gracePeriodBudget,
  envMismatch,
  npmStart,
  mutableImageTag,
  noPdb,
  pdbBlocksEviction,
  topologySpreadMatchLabelKeys,
  serviceSelectorMismatch,
  proxyTimeout,
  proxyIdleTimeout
])
