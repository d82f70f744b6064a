/** The two SnapStart phases that run hooks. */
export type PhaseName = 'beforeSnapshot' | 'afterRestore'

/**
 * Where the process stands in the SnapStart lifecycle.
 * - `initializing`: module load; no phase has run.
 * - `snapshotting`: before-snapshot hooks are running, or have run and the snapshot is pending.
 * - `restoring`: after-restore hooks are running.
 * - `ready`: serving invocations (after a restore, or after init outside snap-start mode).
 * - `failed`: a phase failed; see `getLastError()`.
 */
export type LifecycleState = 'initializing' | 'snapshotting' | 'restoring' | 'ready' | 'failed'

/** How Lambda started this environment (`AWS_LAMBDA_INITIALIZATION_TYPE`). */
export type InitializationType =
  | 'snap-start'
  | 'on-demand'
  | 'provisioned-concurrency'
  | 'lambda-managed-instances'
  | (string & {})

/** Outcome of one hook in a phase. */
export type HookStatus = 'ok' | 'failed' | 'skipped' | 'timed-out'

/** Outcome of a whole phase. */
export type PhaseStatus = 'ok' | 'failed' | 'timed-out'

/** One hook's line in a phase report. */
export interface HookReport {
  /** The hook's name: the function's name, the resource's name, or `anonymous#N`. */
  name: string
  /** Wall time the hook took, in milliseconds (monotonic clock, sub-millisecond). */
  durationMs: number
  status: HookStatus
  /** Present when the hook failed or timed out: the error's name and message. */
  error?: { name: string; message: string }
  /**
   * What a resource hook returned, when it returned a plain object, reduced to what cannot
   * be a secret: its finite numbers and its booleans. The package's own resources also keep
   * strings that are short labels (at most 64 letters, digits, `.`, `_`, `:` or `-`,
   * starting with a letter: `pg.Pool`, `eager`). Every other value is dropped; absent when
   * nothing is left. The report is logged at INFO and served by the web adapter.
   */
  details?: Record<string, unknown>
}

/** The report of one run of a phase. */
export interface PhaseReport {
  phase: PhaseName
  /** Wall-clock start, ISO 8601. */
  startedAt: string
  /** Wall time of the whole phase, in milliseconds (monotonic clock). */
  durationMs: number
  status: PhaseStatus
  /** The budget the phase ran under, in milliseconds. */
  budgetMs: number
  /** Every hook of the phase in run order, including skipped ones. */
  hooks: HookReport[]
  /**
   * Before-snapshot only, after a failure: the after-restore halves of the resources whose
   * before-snapshot half had completed, run to roll them back.
   */
  rollback?: HookReport[]
}

/** A hook function. Plain hooks receive the arguments given at registration. */
export type Hook<A extends unknown[] = any[]> = (...args: A) => unknown

/** What a resource's hooks receive. */
export interface PhaseContext {
  /** The phase being run. */
  phase: PhaseName
  /** The whole phase's budget, in milliseconds. */
  budgetMs: number
  /** Milliseconds left of the phase's budget. */
  remainingMs(): number
  /** Aborted when the phase runs out of budget; pass it to calls that accept one. */
  signal: AbortSignal
}

/** A resource: code that owns both halves of a snapshot (close before, reopen after). */
export interface ResourceOptions {
  /** Name used in reports and logs. */
  name: string
  /**
   * Runs before the snapshot. May return a plain object of counts and flags to show in the
   * report as `details`: only its finite numbers and booleans are kept, the rest dropped.
   */
  beforeSnapshot?: (phase: PhaseContext) => unknown
  /**
   * Runs after the restore, and to roll back a failed before-snapshot phase. May return a
   * plain object of counts and flags, as `beforeSnapshot` does.
   */
  afterRestore?: (phase: PhaseContext) => unknown
  /**
   * Priority tier, default 0. A higher tier runs earlier after the restore and later before
   * the snapshot. Within a tier, registration order decides.
   */
  priority?: number
}

/**
 * Returned by `registerResource`, one per call. Registrations of the same name and functions
 * share the hooks; each holds its own handle.
 */
export interface ResourceHandle {
  readonly name: string
  /**
   * True while this handle's hooks are in the registry: false once this handle has been
   * unregistered, after `reset()`, and for a registration made after its phase ran.
   */
  readonly registered: boolean
  /**
   * Gives up this handle's share of the hooks; both halves leave the registry when no other
   * handle holds them. Calling it again does nothing.
   */
  unregister(): void
}

/** A registered hook as the getters list it. */
export interface RegisteredHook {
  readonly name: string
  readonly hook: Function
  readonly args: readonly unknown[]
  readonly priority: number
  /** Set for the halves of a resource registered with `registerResource`. */
  readonly resource?: string
}

/** Options for `runBeforeSnapshot` and `runAfterRestore`. */
export interface RunPhaseOptions {
  /**
   * Time budget for the whole phase, in milliseconds. Defaults: 10 000 after restore
   * (Lambda's restore limit), 130 000 before the snapshot (Lambda's init limit).
   */
  budgetMs?: number
}
