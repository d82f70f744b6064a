import { getInitializationType, getLastReport, onPhaseEnd } from '../src/lifecycle.js'
import { shared } from '../src/state.js'
import type { InitializationType, PhaseReport } from '../src/types.js'

/** What `snapStart()` puts on `context.snapStart` for each invocation. */
export interface SnapStartContext {
  /** `AWS_LAMBDA_INITIALIZATION_TYPE`, or `on-demand` when unset. */
  initializationType: InitializationType
  /** True when this environment was restored from a snapshot. */
  restored: boolean
  /** True for the first invocation after the restore, false for every later one. */
  firstInvocationAfterRestore: boolean
  /** True while priming runs the handler before the snapshot: skip side effects. */
  priming: boolean
  /** The before-snapshot phase report, with per-hook timings, when the phase ran. */
  beforeSnapshot?: PhaseReport
  /** The after-restore phase report, with per-hook timings, when the phase ran. */
  afterRestore?: PhaseReport
}

let cache:
  | { generation: number; first: boolean; priming: boolean; value: SnapStartContext }
  | undefined

/**
 * The frozen `context.snapStart` for an invocation, built from the lifecycle's current
 * reports and cached until a phase ends or the state is reset. Real and priming invocations
 * both take theirs from here, so priming compiles the code the first real invocation after
 * a restore runs.
 */
export function snapStartContext(
  restored: boolean,
  first: boolean,
  priming: boolean,
): SnapStartContext {
  const generation = shared().generation
  if (
    cache !== undefined &&
    cache.generation === generation &&
    cache.first === first &&
    cache.priming === priming
  ) {
    return cache.value
  }
  const before = getLastReport('beforeSnapshot')
  const after = getLastReport('afterRestore')
  const value: SnapStartContext = Object.freeze({
    initializationType: getInitializationType(),
    restored,
    firstInvocationAfterRestore: first,
    priming,
    ...(before ? { beforeSnapshot: before } : {}),
    ...(after ? { afterRestore: after } : {}),
  })
  cache = { generation, first, priming, value }
  return value
}

/**
 * Builds the first invocation's `context.snapStart` as soon as a restore succeeds, so the
 * object (and the shape V8 gives an object holding both phase reports) is made within the
 * after-restore phase rather than during the first invocation. Idempotent: the listener is
 * one function, added to a set.
 */
export function prepareFirstContextOnRestore(): void {
  onPhaseEnd(prebuildFirstContext)
}

function prebuildFirstContext(report: PhaseReport): void {
  if (report.phase === 'afterRestore' && report.status === 'ok') {
    snapStartContext(true, true, false)
  }
}
