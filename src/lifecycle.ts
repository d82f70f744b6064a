import { errorSummary } from './describe.js'
import { SnapStartPhaseError, SnapStartStateError, SnapStartTimeoutError } from './errors.js'
import { log } from './log.js'
import { checkMilliseconds } from './milliseconds.js'
import { ordered } from './registry.js'
import { type HookEntry, type PhaseListener, shared, strictFromEnvironment } from './state.js'
import type {
  HookReport,
  InitializationType,
  LifecycleState,
  PhaseContext,
  PhaseName,
  PhaseReport,
  RunPhaseOptions,
} from './types.js'

/** Lambda's limit for loading the runtime plus every after-restore hook, in milliseconds. */
export const RESTORE_BUDGET_MS = 10_000
/** Lambda's init limit (init plus before-snapshot hooks), in milliseconds. */
export const INIT_BUDGET_MS = 130_000

const TIMED_OUT = Symbol('timed-out')

/**
 * Runs the before-snapshot hooks (last registered first) within the budget (default
 * 130 000 ms) and resolves to the phase report. A `budgetMs` outside 1 to 2 147 483 647
 * throws a `TypeError`; a fractional one is rounded down to whole milliseconds. On failure
 * the resources whose before-snapshot half completed are rolled back through their
 * after-restore half, and the promise rejects with a `SnapStartPhaseError` (or
 * `SnapStartTimeoutError`) carrying the same report.
 */
export function runBeforeSnapshot(options: RunPhaseOptions = {}): Promise<PhaseReport> {
  return runPhase('beforeSnapshot', options)
}

/**
 * Runs the after-restore hooks (first registered first) within the budget (default
 * 10 000 ms) and resolves to the phase report. A `budgetMs` outside 1 to 2 147 483 647
 * throws a `TypeError`; a fractional one is rounded down to whole milliseconds. On failure
 * it rejects with a `SnapStartPhaseError` (or `SnapStartTimeoutError`) carrying the report,
 * and the lifecycle state becomes `failed`.
 */
export function runAfterRestore(options: RunPhaseOptions = {}): Promise<PhaseReport> {
  return runPhase('afterRestore', options)
}

/** The current lifecycle state. */
export function getState(): LifecycleState {
  return shared().state
}

/** The report of the last run of `phase`, if it has run. */
export function getLastReport(phase: PhaseName): PhaseReport | undefined {
  return shared().reports[phase]
}

/** The error of the last failed phase, while the state is `failed`. */
export function getLastError(): SnapStartPhaseError | undefined {
  const state = shared()
  return state.state === 'failed' ? state.lastError : undefined
}

/** `AWS_LAMBDA_INITIALIZATION_TYPE`, or `on-demand` when it is unset. */
export function getInitializationType(): InitializationType {
  return process.env.AWS_LAMBDA_INITIALIZATION_TYPE || 'on-demand'
}

/** Whether this environment was restored from a snapshot (after-restore phase succeeded). */
export function isRestored(): boolean {
  return shared().restored
}

/**
 * Settles once no phase is running: resolves right away when none is. Invocations use it
 * so that no user code runs on a half-restored process.
 */
export async function whenSettled(): Promise<void> {
  const running = shared().running
  if (running !== undefined) await running.done.catch(() => {})
}

/**
 * Marks the end of init outside snap-start mode (on-demand, provisioned concurrency), so
 * the state reads `ready`. Runtimes call it; a snapshot never happens in those modes.
 */
export function markReady(): void {
  const state = shared()
  if (state.state === 'initializing') state.state = 'ready'
}

/**
 * Records the handler the runtime loaded (the whole middy chain, as exported), so that
 * `snapStart({ prime })` can call it before the snapshot. Runtimes call it after loading.
 */
export function provideHandler(handler: Function): void {
  shared().handler = handler
}

/**
 * Settings of the process-wide registry.
 * `strict`: throw `SnapStartLateRegistrationError` instead of warning when a hook is
 * registered for a phase that already ran (default `false`, or `SNAPSTART_STRICT=true`).
 */
export function configure(options: { strict?: boolean }): void {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError('configure expects an options object such as { strict: true }')
  }
  for (const key of Object.keys(options)) {
    if (key !== 'strict') throw new TypeError(`configure: unknown option "${key}"`)
  }
  if (options.strict !== undefined && typeof options.strict !== 'boolean') {
    throw new TypeError('configure: "strict" must be a boolean')
  }
  if (options.strict !== undefined) shared().strict = options.strict
}

/**
 * Forgets every hook, report and state, as in a new process. For tests that run several
 * lifecycles in one process; never needed in a function.
 */
export function reset(): void {
  const state = shared()
  state.entries = []
  state.seq = 0
  state.state = 'initializing'
  state.reports = {}
  state.ran.clear()
  state.running = undefined
  state.lastError = undefined
  state.warnedLate.clear()
  state.listeners.clear()
  state.firstInvocationPending = false
  state.restored = false
  state.handler = undefined
  state.restoreBudgetMs = undefined
  state.fromEnvironment = undefined
  state.strict = strictFromEnvironment()
  state.primingContexts = undefined
  state.firstRequest = undefined
  state.generation++
  state.resets++
}

/** Calls `listener` with each phase report as the phase ends. Returns the unsubscribe. */
export function onPhaseEnd(listener: PhaseListener): () => void {
  const listeners = shared().listeners
  listeners.add(listener)
  return () => listeners.delete(listener)
}

function runPhase(phase: PhaseName, options: RunPhaseOptions): Promise<PhaseReport> {
  const budgetMs = validateBudget(phase, options)
  const state = shared()
  if (state.running !== undefined) {
    return Promise.reject(
      new SnapStartStateError(
        `Cannot start ${phase} while ${state.running.phase} is still running; await it first`,
      ),
    )
  }
  const done = execute(phase, budgetMs)
  state.running = { phase, done }
  const clear = () => {
    if (state.running?.done === done) state.running = undefined
  }
  done.then(clear, clear)
  return done
}

function validateBudget(phase: PhaseName, options: RunPhaseOptions): number {
  const fallback = phase === 'afterRestore' ? RESTORE_BUDGET_MS : INIT_BUDGET_MS
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`run ${phase}: options must be an object such as { budgetMs: 5000 }`)
  }
  // Reports and hooks see whole milliseconds; rounding down never grants more than asked.
  return Math.floor(checkMilliseconds(options.budgetMs ?? fallback, `run ${phase}`, 'budgetMs'))
}

async function execute(phase: PhaseName, budgetMs: number): Promise<PhaseReport> {
  const state = shared()
  const entries = ordered(phase)
  state.ran.add(phase)
  state.state = phase === 'beforeSnapshot' ? 'snapshotting' : 'restoring'
  if (phase === 'afterRestore') state.restored = false

  const startedAt = new Date().toISOString()
  const start = performance.now()
  const controller = new AbortController()
  const context: PhaseContext = {
    phase,
    budgetMs,
    remainingMs: () => Math.max(0, budgetMs - (performance.now() - start)),
    signal: controller.signal,
  }

  const hooks: HookReport[] = entries.map((entry) => ({
    name: entry.name,
    durationMs: 0,
    status: 'skipped',
  }))
  const completed: HookEntry[] = []
  let failure: { index: number; error: unknown; timedOut: boolean } | undefined

  for (const [index, entry] of entries.entries()) {
    const report = hooks[index]!
    const hookStart = performance.now()
    const outcome = await settle(entry, context, budgetMs - (hookStart - start))
    report.durationMs = performance.now() - hookStart
    const overBudget = performance.now() - start > budgetMs

    if (outcome.ok && !overBudget) {
      report.status = 'ok'
      if (entry.resource !== undefined) {
        const details = safeDetails(outcome.value, entry.resource.labels)
        if (details !== undefined) report.details = details
      }
      completed.push(entry)
      continue
    }
    const timedOut = !outcome.ok ? outcome.error === TIMED_OUT : true
    report.status = timedOut ? 'timed-out' : 'failed'
    if (!timedOut) report.error = errorSummary(outcome.ok ? undefined : outcome.error)
    failure = { index, error: outcome.ok ? undefined : outcome.error, timedOut }
    break
  }

  const report: PhaseReport = {
    phase,
    startedAt,
    durationMs: performance.now() - start,
    status: failure === undefined ? 'ok' : failure.timedOut ? 'timed-out' : 'failed',
    budgetMs,
    hooks,
  }
  if (failure !== undefined) controller.abort(new Error(`${phase} phase stopped`))

  if (failure !== undefined && phase === 'beforeSnapshot') {
    report.rollback = await rollback(completed)
  }
  report.durationMs = performance.now() - start
  state.reports[phase] = report

  if (failure === undefined) {
    if (phase === 'afterRestore') {
      state.state = 'ready'
      state.restored = true
      state.firstInvocationPending = true
    }
    announce(report)
    return report
  }

  const error = phaseError(report, failure)
  state.state = 'failed'
  state.lastError = error
  announce(report)
  throw error
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown }

/**
 * Runs one hook, turning a synchronous throw, a rejection or a budget overrun into an
 * outcome. The hook's promise stays subscribed, so a late rejection is never unhandled.
 */
async function settle(entry: HookEntry, context: PhaseContext, remainingMs: number) {
  if (remainingMs <= 0) return { ok: false, error: TIMED_OUT } satisfies Outcome
  let returned: unknown
  try {
    returned = entry.fn(...(entry.resource === undefined ? entry.args : [context]))
  } catch (error) {
    return { ok: false, error } satisfies Outcome
  }
  // A synchronous hook has finished: no timer to race (the caller checks the budget after).
  if (!isThenable(returned)) return { ok: true, value: returned } satisfies Outcome

  let timer: NodeJS.Timeout | undefined
  try {
    const deadline = new Promise<typeof TIMED_OUT>((resolve) => {
      timer = setTimeout(resolve, remainingMs, TIMED_OUT)
    })
    const result = await Promise.race([returned, deadline])
    if (result === TIMED_OUT) return { ok: false, error: TIMED_OUT } satisfies Outcome
    return { ok: true, value: result } satisfies Outcome
  } catch (error) {
    return { ok: false, error } satisfies Outcome
  } finally {
    clearTimeout(timer)
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as { then?: unknown } | null | undefined)?.then === 'function'
}

/**
 * Gives each completed resource its after-restore half, latest prepared first undone last.
 * The whole rollback shares one deadline, Lambda's restore limit (`RESTORE_BUDGET_MS`): the
 * hooks' `remainingMs()` counts down to it, their `signal` aborts at it, the hook running
 * then is reported `timed-out` and the ones after it `skipped`.
 */
async function rollback(completed: HookEntry[]): Promise<HookReport[]> {
  const undo = completed
    .map((entry) => entry.resource?.after)
    .filter((entry): entry is HookEntry => entry !== undefined)
    .reverse()
  const start = performance.now()
  const remainingMs = () => Math.max(0, RESTORE_BUDGET_MS - (performance.now() - start))
  const controller = new AbortController()
  const context: PhaseContext = {
    phase: 'afterRestore',
    budgetMs: RESTORE_BUDGET_MS,
    remainingMs,
    signal: controller.signal,
  }
  const stop = () => controller.abort(new Error('rollback ran out of its budget'))
  const deadline = setTimeout(stop, RESTORE_BUDGET_MS)

  const reports: HookReport[] = []
  try {
    for (const entry of undo) {
      if (controller.signal.aborted || remainingMs() <= 0) {
        reports.push({ name: entry.name, durationMs: 0, status: 'skipped' })
        continue
      }
      const hookStart = performance.now()
      const outcome = await settle(entry, context, remainingMs())
      const report: HookReport = {
        name: entry.name,
        durationMs: performance.now() - hookStart,
        status: outcome.ok ? 'ok' : outcome.error === TIMED_OUT ? 'timed-out' : 'failed',
      }
      if (!outcome.ok && outcome.error !== TIMED_OUT) report.error = errorSummary(outcome.error)
      if (report.status === 'timed-out' && !controller.signal.aborted) stop()
      reports.push(report)
    }
  } finally {
    clearTimeout(deadline)
  }
  return reports
}

function phaseError(
  report: PhaseReport,
  failure: { index: number; error: unknown; timedOut: boolean },
): SnapStartPhaseError {
  const hook = report.hooks[failure.index]!.name
  const label = report.phase === 'beforeSnapshot' ? 'before-snapshot' : 'after-restore'
  if (failure.timedOut) {
    const elapsedMs = Math.round(report.durationMs)
    return new SnapStartTimeoutError(
      `The ${label} phase ran over its ${report.budgetMs} ms budget after ${elapsedMs} ms, ` +
        `while hook "${hook}" was running. Make the hook faster, move work out of it, or ` +
        'raise the budget.',
      { phase: report.phase, hook, report, elapsedMs, budgetMs: report.budgetMs },
    )
  }
  const reason = errorSummary(failure.error)
  return new SnapStartPhaseError(
    `The ${label} hook "${hook}" failed: ${reason.name}: ${reason.message}`,
    { phase: report.phase, hook, report, cause: failure.error },
  )
}

function announce(report: PhaseReport): void {
  shared().generation++
  const level = report.status === 'ok' ? 'info' : 'error'
  log(level, `SnapStart ${report.phase} ${report.status} in ${report.durationMs.toFixed(1)} ms`, {
    type: 'snapstart.phase',
    phase: report.phase,
    status: report.status,
    durationMs: round(report.durationMs),
    hooks: report.hooks.map((hook) => ({ ...hook, durationMs: round(hook.durationMs) })),
  })
  for (const listener of shared().listeners) {
    try {
      listener(report)
    } catch (error) {
      log('warn', 'A SnapStart phase listener threw', { error: errorSummary(error) })
    }
  }
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000
}

/** A string the package's own resources may report: a kind or a mode, never free text. */
const LABEL = /^[A-Za-z][\w.:-]{0,63}$/

/**
 * What of a resource hook's return value goes into the report, which is logged at INFO and
 * served by the web adapter: of a plain object, the finite numbers and the booleans, plus,
 * for the package's own resources (`labels`), strings that are short labels. Everything
 * else could hold a secret and is dropped. `undefined` when nothing is left.
 */
function safeDetails(value: unknown, labels: boolean): Record<string, unknown> | undefined {
  if (!isPlainObject(value)) return undefined
  const details: Record<string, unknown> = {}
  let kept = 0
  for (const [key, field] of Object.entries(value)) {
    const safe =
      (typeof field === 'number' && Number.isFinite(field)) ||
      typeof field === 'boolean' ||
      (labels && typeof field === 'string' && LABEL.test(field))
    if (!safe) continue
    details[key] = field
    kept++
  }
  return kept === 0 ? undefined : details
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false
  const proto = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}
