import {
  configure,
  getInitializationType,
  getLastError,
  getLastReport,
  onPhaseEnd,
  whenSettled,
} from '../src/lifecycle.js'
import { shared } from '../src/state.js'
import type { InitializationType, PhaseReport } from '../src/types.js'
import { PRIMING, type PrimeOptions, registerRuntimePriming } from './prime.js'

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

/** Options of `snapStart()`. */
export interface SnapStartOptions {
  /**
   * Print CloudWatch Embedded Metric Format lines when a phase ends: one duration metric
   * for the phase and one per hook, in milliseconds. `true` uses namespace `SnapStart`.
   * Default `false`.
   */
  metrics?: boolean | { namespace?: string }
  /**
   * Throw instead of warning when a hook is registered for a phase that already ran.
   * Default `false`.
   */
  strict?: boolean
  /**
   * Before the snapshot, send these synthetic events through the handler the runtime loaded
   * (its whole middy chain), `times` rounds each, so the first invocation after a restore
   * finds modules loaded and code compiled. `optional: true` turns a priming failure into a
   * warning.
   */
  prime?: PrimeOptions
}

/** The smallest shape of a middy request this middleware needs. */
interface Request {
  context: { snapStart?: SnapStartContext; [PRIMING]?: true } & object
}

const KNOWN_OPTIONS = new Set(['metrics', 'strict', 'prime'])

/**
 * Middy middleware that gives every invocation `context.snapStart` (initialization type,
 * whether the environment was restored, the phase reports with per-hook timings), holds an
 * invocation that arrives during the after-restore phase until the phase ends, and fails
 * invocations after a failed phase with that phase's error.
 *
 * Building the chain (at module load) registers what it needs once, however many handlers
 * use it.
 */
export function snapStart(options: SnapStartOptions = {}) {
  validate(options)
  if (options.strict !== undefined) configure({ strict: options.strict })
  if (options.metrics) enableMetrics(options.metrics === true ? {} : options.metrics)
  if (options.prime !== undefined) registerRuntimePriming(options.prime)

  return { before: snapStartMiddlewareBefore }
}

/**
 * Synchronous on the common path (nothing running, nothing failed), so an invocation pays
 * for two property reads and a cached object.
 */
function snapStartMiddlewareBefore(request: Request): Promise<void> | undefined {
  // A priming invocation runs inside the before-snapshot phase and brings its own context.
  if (request.context[PRIMING] === true) return undefined
  const state = shared()
  if (state.running !== undefined) return afterPhase(request)
  if (state.state === 'failed') throw getLastError()

  const first = state.firstInvocationPending
  if (first) state.firstInvocationPending = false
  request.context.snapStart = contextFor(state.generation, state.restored, first)
  return undefined
}

async function afterPhase(request: Request): Promise<void> {
  await whenSettled()
  await snapStartMiddlewareBefore(request)
}

let cache: { generation: number; first: boolean; value: SnapStartContext } | undefined

/** Builds the context object, cached until a phase ends or the state is reset. */
function contextFor(generation: number, restored: boolean, first: boolean): SnapStartContext {
  if (cache !== undefined && cache.generation === generation && cache.first === first) {
    return cache.value
  }
  const before = getLastReport('beforeSnapshot')
  const after = getLastReport('afterRestore')
  const value: SnapStartContext = Object.freeze({
    initializationType: getInitializationType(),
    restored,
    firstInvocationAfterRestore: first,
    priming: false,
    ...(before ? { beforeSnapshot: before } : {}),
    ...(after ? { afterRestore: after } : {}),
  })
  cache = { generation, first, value }
  return value
}

const metricsWriters = new Map<string, (report: PhaseReport) => void>()

/**
 * Subscribes one EMF writer per namespace, however many times the middleware is built: the
 * same writer function is added to a set.
 */
function enableMetrics(options: { namespace?: string }): void {
  const namespace = options.namespace ?? 'SnapStart'
  let writer = metricsWriters.get(namespace)
  if (writer === undefined) {
    writer = (report) => writeMetrics(namespace, report)
    metricsWriters.set(namespace, writer)
  }
  onPhaseEnd(writer)
}

function writeMetrics(namespace: string, report: PhaseReport): void {
  const metrics = [{ Name: 'PhaseDuration', Unit: 'Milliseconds' }]
  const values: Record<string, number> = { PhaseDuration: report.durationMs }
  for (const hook of report.hooks) {
    const name = `HookDuration.${hook.name}`
    metrics.push({ Name: name, Unit: 'Milliseconds' })
    values[name] = hook.durationMs
  }
  const line = {
    _aws: {
      Timestamp: Date.now(),
      CloudWatchMetrics: [{ Namespace: namespace, Dimensions: [['phase']], Metrics: metrics }],
    },
    phase: report.phase,
    status: report.status,
    ...values,
  }
  process.stdout.write(`${JSON.stringify(line)}\n`)
}

function validate(options: SnapStartOptions): void {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new TypeError('snapStart: options must be an object, for example { metrics: true }')
  }
  for (const key of Object.keys(options)) {
    if (!KNOWN_OPTIONS.has(key)) {
      throw new TypeError(
        `snapStart: unknown option "${key}"; known options: ${[...KNOWN_OPTIONS].join(', ')}`,
      )
    }
  }
  const { metrics, strict } = options
  const metricsOk =
    metrics === undefined ||
    typeof metrics === 'boolean' ||
    (typeof metrics === 'object' &&
      metrics !== null &&
      Object.keys(metrics).every((key) => key === 'namespace') &&
      (metrics.namespace === undefined ||
        (typeof metrics.namespace === 'string' && metrics.namespace !== '')))
  if (!metricsOk) {
    throw new TypeError(
      'snapStart: "metrics" must be true, false or { namespace: "NonEmptyString" }',
    )
  }
  if (strict !== undefined && typeof strict !== 'boolean') {
    throw new TypeError('snapStart: "strict" must be a boolean')
  }
}
