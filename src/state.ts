import type { SnapStartPhaseError } from './errors.js'
import { log } from './log.js'
import type { Hook, LifecycleState, PhaseName, PhaseReport } from './types.js'
import { VERSION } from './version.js'

/** One registration. The two halves of a resource share `resource`. */
export interface HookEntry {
  readonly seq: number
  readonly phase: PhaseName
  readonly name: string
  readonly fn: Hook
  readonly args: readonly unknown[]
  readonly priority: number
  readonly resource?: ResourceRecord
}

/** A resource's two halves, shared by every registration of the same name and functions. */
export interface ResourceRecord {
  readonly name: string
  /** Handles given out for this record and not yet unregistered. */
  owners: number
  /** Registered by this package's own middlewares: short string labels in `details` kept. */
  readonly labels: boolean
  before?: HookEntry
  after?: HookEntry
}

export type PhaseListener = (report: PhaseReport) => void

/** One priming invocation, as the priming hook hands it to a `Primer`. */
export interface PrimingCall {
  /** The event, as the JSON text a real invocation's event arrives in. */
  payload: string
  requestId: string
  /** When the priming invocation times out, in epoch milliseconds. */
  deadlineMs: number
  invokedFunctionArn: string
  /** Marks the context as priming and gives it `snapStart`; call it once the context exists. */
  prepare(context: object): void
}

/** What priming records about one priming context. */
export interface PrimingMark {
  /** The `prime` options of the `snapStart()` that asked; none for `primeHandler`. */
  readonly owner: object | undefined
  /** A `snapStart()` built with `owner` let the invocation through. */
  reached: boolean
  /** Another `snapStart()` stopped the invocation: the handler is not `owner`'s chain. */
  foreign: boolean
}

/**
 * Runs `handler` on one priming event through a host's own invocation path (the event
 * parsed from JSON, the context built, the result serialized, as for a real invocation), so
 * that priming compiles the code real invocations run. Resolves to the handler's result.
 */
export type Primer = (handler: Function, call: PrimingCall) => Promise<unknown>

/** Something registered that can be taken back out of the registry. */
export interface Unregister {
  unregister(): void
}

/**
 * What the environment configuration (`SNAPSTART_*` variables) registered, one entry per
 * option, so that the same option given in code can replace it. An entry is removed once
 * code has replaced it.
 */
export interface FromEnvironment {
  rngReseed?: Unregister
  poolReset?: Unregister
  /** The store of `SNAPSTART_SECRETS`; its values go on each invocation's context. */
  secrets?: Unregister & {
    current(): Record<string, unknown> | Promise<Record<string, unknown>>
  }
  metrics?: Unregister
}

/**
 * Everything the registry and the lifecycle share. It lives on `globalThis` under a
 * `Symbol.for` key so that every copy of the package in the process (the ESM and CJS builds,
 * nested copies in node_modules, the runtime's own bundle) sees one registry. Its shape is
 * versioned by `schema`: a change to it must bump the number.
 */
export interface SharedState {
  readonly schema: 4
  readonly version: string
  readonly versionsSeen: Set<string>
  seq: number
  entries: HookEntry[]
  state: LifecycleState
  reports: Partial<Record<PhaseName, PhaseReport>>
  /** Phases that have run (or are running) in this environment. */
  ran: Set<PhaseName>
  running?: { phase: PhaseName; done: Promise<unknown> }
  lastError?: SnapStartPhaseError
  strict: boolean
  /** `phase:name` of late registrations already warned about, so each warns once. */
  warnedLate: Set<string>
  listeners: Set<PhaseListener>
  /** True from a successful restore until the first invocation has seen it. */
  firstInvocationPending: boolean
  restored: boolean
  /** Bumped whenever a phase ends or the state is reset, so readers can cache derived data. */
  generation: number
  /** Bumped by `reset()`, so what was built and registered before it is built again. */
  resets: number
  /** The function handler the runtime loaded, so priming can call it through its chain. */
  handler?: Function
  /** Set by a runtime host while its before-snapshot phase runs: how priming calls a handler. */
  primer?: Primer
  /**
   * The contexts of priming invocations, kept for their whole life. A map rather than a mark
   * on the context, so a priming context has the same shape as a real one and the code
   * primed on it stays fit for real invocations.
   */
  primingContexts?: WeakMap<object, PrimingMark>
  /**
   * The middy request that took `firstInvocationAfterRestore`, until the next invocation, so
   * a second `snapStart()` in the same chain (or another copy's) sees the same answer.
   */
  firstRequest?: object
  /**
   * The after-restore budget given in code (`snapStart({ restoreBudgetMs })`), in
   * milliseconds. Runtimes read it after loading the handler; it wins over
   * `SNAPSTART_RESTORE_BUDGET_MS`.
   */
  restoreBudgetMs?: number
  /** Set once the environment configuration has been applied in this process. */
  fromEnvironment?: FromEnvironment
}

const KEY = Symbol.for('middy-snapstart.state')

/**
 * Reads an on/off `SNAPSTART_*` variable: `true` or `false`, blanks around ignored.
 * `undefined` when it is unset or blank, `null` when it holds anything else.
 */
export function readFlag(raw: string | undefined): boolean | null | undefined {
  const value = raw?.trim()
  if (value === undefined || value === '') return undefined
  if (value === 'true') return true
  if (value === 'false') return false
  return null
}

/**
 * The strict mode `SNAPSTART_STRICT` asks for, the default of `SharedState.strict`: only
 * `true` turns it on. `configureFromEnvironment()` rejects a malformed value.
 */
export function strictFromEnvironment(env: NodeJS.ProcessEnv = process.env): boolean {
  return readFlag(env.SNAPSTART_STRICT) === true
}

function create(): SharedState {
  return {
    schema: 4,
    version: VERSION,
    versionsSeen: new Set([VERSION]),
    seq: 0,
    entries: [],
    state: 'initializing',
    reports: {},
    ran: new Set(),
    strict: strictFromEnvironment(),
    warnedLate: new Set(),
    listeners: new Set(),
    firstInvocationPending: false,
    restored: false,
    generation: 0,
    resets: 0,
  }
}

let cached: SharedState | undefined

/** The process-wide state, created by the first copy that asks for it. */
export function shared(): SharedState {
  if (cached !== undefined) return cached
  const holder = globalThis as { [KEY]?: SharedState }
  const existing = holder[KEY]
  if (existing === undefined) {
    holder[KEY] = create()
  } else if (!existing.versionsSeen.has(VERSION)) {
    existing.versionsSeen.add(VERSION)
    log('warn', 'Several versions of middy-snapstart are loaded; they share one registry', {
      type: 'snapstart.versions',
      versions: [...existing.versionsSeen],
    })
  }
  cached = holder[KEY]!
  return cached
}
