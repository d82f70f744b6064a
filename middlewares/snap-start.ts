import { configure, getLastError, onPhaseEnd, whenSettled } from '../src/lifecycle.js'
import { log, writeJsonLine } from '../src/log.js'
import { shared } from '../src/state.js'
import type { PhaseReport } from '../src/types.js'
import { type PoolResetOptions, registerPoolReset } from './pool-reset/pool-reset.js'
import { type PrimeOptions, primingStep, registerRuntimePriming } from './prime.js'
import type { RngReseedOptions } from './rng-reseed/rng-reseed.js'
import { registerRngReseed } from './rng-reseed/rng-reseed.js'
import { createStore, type Internal } from './secret-refresh/store.js'
import type { SecretRefreshOptions } from './secret-refresh/types.js'
import {
  prepareFirstContextOnRestore,
  type SnapStartContext,
  snapStartContext,
} from './snap-start-context.js'
import { validateSnapStartOptions } from './snap-start-options.js'

export type { SnapStartContext } from './snap-start-context.js'

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
  /**
   * The after-restore phase's budget, in milliseconds (1 to 900 000). The snapstart runtime
   * reads it after loading the handler; it wins over `SNAPSTART_RESTORE_BUDGET_MS`.
   * Default 9 000 (Lambda's 10 000 ms restore limit less a 1 000 ms margin).
   */
  restoreBudgetMs?: number
  /**
   * Make random state unique again after each restore (`rngReseed()`): `true`, or
   * `{ reseed: [fn] }` for generators of your own. `false` turns off `SNAPSTART_RNG_RESEED`.
   * Default: what `SNAPSTART_RNG_RESEED` says, else off.
   */
  rngReseed?: boolean | RngReseedOptions
  /**
   * Close these connection holders before the snapshot and reopen them after the restore
   * (`poolReset()`). `false` turns off `SNAPSTART_POOL_RESET`. Default: what
   * `SNAPSTART_POOL_RESET` says, else off.
   */
  poolReset?: false | PoolResetOptions
  /**
   * Secrets to keep fresh across restores (`secretRefresh()`), keyed by the name each
   * invocation reads them under: `context.<name>`. `false` turns off `SNAPSTART_SECRETS`.
   * Default: what `SNAPSTART_SECRETS` says, else none.
   */
  secrets?: false | SecretRefreshOptions['secrets']
  /** The other options of `secretRefresh()` for `secrets`: `refresh`, `maxAgeMs`, ... */
  secretRefresh?: Omit<SecretRefreshOptions, 'secrets'>
}

/** What `snapStart()` returns: one middy middleware object. */
export interface SnapStartMiddleware {
  before: (request: any) => Promise<void> | undefined
}

/** The smallest shape of a middy request this middleware needs. */
interface Request {
  context: { snapStart?: SnapStartContext } & object
  internal?: Record<string, unknown>
}

/**
 * Middy middleware that gives every invocation `context.snapStart` (initialization type,
 * whether the environment was restored, the phase reports with per-hook timings), holds an
 * invocation that arrives during the after-restore phase until the phase ends, and fails
 * invocations after a failed phase with that phase's error.
 *
 * Its options switch on the prebuilt behaviours in the right order: after the restore the
 * reseed runs first (top priority tier), then the pool reset, then the secrets; before the
 * snapshot priming runs first (lowest tier), then the secrets, then the pool reset. Every
 * option is checked here, at module load: an unknown key or a wrong type throws a
 * `TypeError` naming the option path. An option given here replaces the environment
 * variable of the same option as a whole; `false` turns that variable's behaviour off.
 *
 * Building the chain (at module load) registers what it needs once, however many handlers
 * use it.
 */
export function snapStart(options: SnapStartOptions = {}): SnapStartMiddleware {
  const resets = shared().resets
  const known = built.get(options)
  if (known !== undefined && known.resets === resets) return known.middleware
  validateSnapStartOptions(options)
  const middleware = build(options)
  if (typeof options === 'object' && options !== null) built.set(options, { resets, middleware })
  return middleware
}

/**
 * The middleware built for each options object, so building it again registers nothing,
 * until `reset()` empties the registry.
 */
const built = new WeakMap<object, { resets: number; middleware: SnapStartMiddleware }>()

function build(options: SnapStartOptions): SnapStartMiddleware {
  prepareFirstContextOnRestore()
  if (options.strict !== undefined) configure({ strict: options.strict })
  if (options.metrics !== undefined) {
    replaceFromEnvironment('metrics')
    if (options.metrics) enableMetrics(options.metrics === true ? {} : options.metrics)
  }
  if (options.restoreBudgetMs !== undefined) shared().restoreBudgetMs = options.restoreBudgetMs
  if (options.prime !== undefined) registerRuntimePriming(options.prime)
  if (options.poolReset !== undefined) {
    replaceFromEnvironment('poolReset')
    if (options.poolReset) registerPoolReset(options.poolReset)
  }
  let store: Internal | undefined
  if (options.secrets !== undefined) {
    replaceFromEnvironment('secrets')
    if (options.secrets) store = createStore({ ...options.secretRefresh, secrets: options.secrets })
  }
  if (options.rngReseed !== undefined) {
    replaceFromEnvironment('rngReseed')
    if (options.rngReseed) registerRngReseed(options.rngReseed === true ? {} : options.rngReseed)
  }
  // Priming asked for by these options goes through this middleware only.
  const own = options.prime
  if (store === undefined) {
    if (own === undefined) return { before: snapStartMiddlewareBefore }
    return {
      before: function snapStartPrimedBefore(request: Request) {
        return snapStartMiddlewareBefore(request, own)
      },
    }
  }

  const secrets = store
  return {
    // The wait for a running phase is snapStart's own, which lets a priming call through.
    before: function snapStartWithSecretsBefore(request: Request) {
      const waiting = snapStartMiddlewareBefore(request, own)
      if (waiting === undefined) return assignSecrets(secrets, request)
      return waiting.then(() => assignSecrets(secrets, request))
    },
  }
}

/**
 * Puts every secret on `context.<name>` and `request.internal.<name>`, fetching first what
 * has expired; synchronous when nothing has.
 */
function assignSecrets(store: Internal, request: Request): Promise<void> | undefined {
  const values = store.current()
  if (!(values instanceof Promise)) {
    assignValues(request, values)
    return undefined
  }
  return values.then((resolved) => assignValues(request, resolved))
}

function assignValues(request: Request, values: Record<string, unknown>): void {
  Object.assign(request.context, values)
  if (request.internal !== undefined) Object.assign(request.internal, values)
}

/**
 * Takes out what the environment configuration registered for `option`, since code gave
 * the same option. Limitation: a `Math.random` replaced because of `SNAPSTART_RNG_RESEED`
 * stays replaced (by a generator seeded from `crypto`); it is only no longer reseeded.
 */
function replaceFromEnvironment(option: 'metrics' | 'poolReset' | 'secrets' | 'rngReseed') {
  const fromEnvironment = shared().fromEnvironment
  const registered = fromEnvironment?.[option]
  if (fromEnvironment === undefined || registered === undefined) return
  registered.unregister()
  delete fromEnvironment[option]
  log('debug', `snapStart: option "${option}" in code replaces its environment variable`, {
    type: 'snapstart.config',
    option,
  })
}

/**
 * Synchronous on the common path (nothing running, nothing failed), so an invocation pays
 * for a few property reads and a cached object.
 */
function snapStartMiddlewareBefore(request: Request, own?: object): Promise<void> | undefined {
  const state = shared()
  // A priming invocation brings its own context.snapStart and never waits for the phase it
  // runs in. One asked for by another snapStart({ prime }) stops here, before the handler.
  if (state.primingContexts !== undefined) {
    const step = primingStep(request.context, own)
    if (step === 'stop') throw new SnapStartPrimingStopped()
    if (step === 'continue') return undefined
  }
  if (state.running !== undefined) return afterPhase(request, own)
  if (state.state === 'failed') throw getLastError()

  let first = state.firstInvocationPending
  if (first) {
    state.firstInvocationPending = false
    state.firstRequest = request
  } else if (state.firstRequest !== undefined) {
    // A second snapStart() in the same chain sees what the first one saw.
    if (state.firstRequest === request) first = true
    else state.firstRequest = undefined
  }
  request.context.snapStart = snapStartContext(state.restored, first, false)
  return undefined
}

async function afterPhase(request: Request, own: object | undefined): Promise<void> {
  await whenSettled()
  await snapStartMiddlewareBefore(request, own)
}

/**
 * A priming event of one `snapStart({ prime })` reached the chain of another `snapStart()`:
 * the runtime loaded another handler than the one that asked. Thrown before the handler.
 */
export class SnapStartPrimingStopped extends Error {
  override name = 'SnapStartPrimingStopped'

  constructor() {
    super(
      'This priming event belongs to the snapStart({ prime }) of another handler than the one ' +
        'the runtime loaded; it was stopped before the handler',
    )
  }
}

const metricsWriters = new Map<string, (report: PhaseReport) => void>()

/**
 * Subscribes one EMF writer per namespace, however many times the middleware is built: the
 * same writer function is added to a set. Returns the unsubscribe.
 */
export function enableMetrics(options: { namespace?: string }): () => void {
  const namespace = options.namespace ?? 'SnapStart'
  let writer = metricsWriters.get(namespace)
  if (writer === undefined) {
    writer = (report) => writeMetrics(namespace, report)
    metricsWriters.set(namespace, writer)
  }
  return onPhaseEnd(writer)
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
  writeJsonLine(line)
}
