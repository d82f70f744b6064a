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

/** What `snapStart()` puts on `context.snapStart` for each invocation. */
export interface SnapStartContext {
  /** `AWS_LAMBDA_INITIALIZATION_TYPE`, or `on-demand` when unset. */
  initializationType: InitializationType
  /** True when this environment was restored from a snapshot. */
  restored: boolean
  /** True for the first invocation after the restore, false for every later one. */
  firstInvocationAfterRestore: boolean
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
}

/** The smallest shape of a middy request this middleware needs. */
interface Request {
  context: { snapStart?: SnapStartContext } & object
}

const KNOWN_OPTIONS = new Set(['metrics', 'strict'])

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

  return { before: snapStartMiddlewareBefore }
}

async function snapStartMiddlewareBefore(request: Request): Promise<void> {
  const state = shared()
  if (state.running !== undefined) await whenSettled()
  if (state.state === 'failed') throw getLastError()

  const first = state.firstInvocationPending
  if (first) state.firstInvocationPending = false
  request.context.snapStart = contextFor(state.restored, first)
}

let cache: { key: string; value: SnapStartContext } | undefined

/** Builds the context object; cached, since it changes only when a phase ends. */
function contextFor(restored: boolean, first: boolean): SnapStartContext {
  const before = getLastReport('beforeSnapshot')
  const after = getLastReport('afterRestore')
  const initializationType = getInitializationType()
  const key = `${initializationType}|${restored}|${first}|${before?.startedAt}|${after?.startedAt}`
  if (cache?.key === key) return cache.value
  const value: SnapStartContext = Object.freeze({
    initializationType,
    restored,
    firstInvocationAfterRestore: first,
    ...(before ? { beforeSnapshot: before } : {}),
    ...(after ? { afterRestore: after } : {}),
  })
  cache = { key, value }
  return value
}

const metricsNamespaces = new Set<string>()

/** Subscribes one EMF writer per namespace, however many times the middleware is built. */
function enableMetrics(options: { namespace?: string }): void {
  const namespace = options.namespace ?? 'SnapStart'
  if (metricsNamespaces.has(namespace)) return
  metricsNamespaces.add(namespace)
  onPhaseEnd((report) => writeMetrics(namespace, report))
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
