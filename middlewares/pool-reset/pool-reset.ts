import { describeInstance } from '../../src/describe.js'
import { whenSettled } from '../../src/lifecycle.js'
import { log } from '../../src/log.js'
import { checkMilliseconds } from '../../src/milliseconds.js'
import { registerPackageResource } from '../../src/registry.js'
import { shared } from '../../src/state.js'
import type { PhaseContext, ResourceHandle } from '../../src/types.js'
import { isPriming } from '../prime.js'
import type { Adapter } from './adapter.js'
import { customResourceProblem, looksLikeCustomResource } from './adapters/custom.js'
import { DeadlinePassed, deadlineIn } from './deadline.js'
import { PoolResetReopenError, shortName } from './errors.js'
import { ACCEPTED, recognise } from './recognise.js'

/** Options of `poolReset()` and `registerPoolReset()`. */
export interface PoolResetOptions {
  /**
   * The connection holders to close before the snapshot and reopen after the restore: an
   * array, or an object whose keys name them in the phase reports. See `ACCEPTED` kinds in
   * the README: pg, mysql2, ioredis, redis, http/https agents, undici, `fetch`, AWS SDK v3
   * clients, mongodb, or `{ name, close(), reopen?() }`.
   */
  resources: readonly unknown[] | Readonly<Record<string, unknown>>
  /**
   * Connections to open per pool right after the restore, in parallel, so the first
   * invocation pays no connect. Applies to pg and mysql2 pools and custom resources; clients
   * that hold one connection (pg Client, Redis, MongoDB) always reconnect. Default 0.
   */
  prewarm?: number
  /**
   * How long to wait before the snapshot for work in flight (queries, requests) to finish,
   * per resource, in milliseconds (1 to 2 147 483 647). Default 5000. Connections still busy
   * then are destroyed (their work fails), counted as `forced` in the report, and one warning
   * is logged.
   */
  drainTimeoutMs?: number
}

/** Returned by `registerPoolReset()`. */
export interface PoolReset {
  /** The names of the resources as they appear in the phase reports, in order. */
  readonly names: readonly string[]
  /** Removes every resource's hooks from the registry. Safe to call twice. */
  unregister(): void
}

/** What a resource's hook returns; the phase report shows it as the hook's `details`. */
export interface PoolResetDetails {
  /** The kind recognised: `pg.Pool`, `mysql2.Pool`, `ioredis`, `http.Agent`, ... */
  kind: string
  /** Before the snapshot: connections closed, including the `forced` ones. */
  closed?: number
  /**
   * Before the snapshot: connections still busy when `drainTimeoutMs` ran out, destroyed
   * with their work in flight.
   */
  forced?: number
  /** After the restore: connections opened. */
  opened?: number
  /** Time the resource took in this phase, in milliseconds. */
  ms: number
  /** Present when the user ended the pool themselves; it is then left alone. */
  endedByUser?: true
}

/** The default of `drainTimeoutMs`, in milliseconds. */
export const DEFAULT_DRAIN_TIMEOUT_MS = 5_000

const KNOWN_OPTIONS = new Set(['resources', 'prewarm', 'drainTimeoutMs'])

interface Managed {
  readonly name: string
  readonly adapter: Adapter
  readonly prewarm: number
  readonly drainTimeoutMs: number
  readonly beforeSnapshot: (phase: PhaseContext) => Promise<PoolResetDetails>
  readonly afterRestore: (phase: PhaseContext) => Promise<PoolResetDetails>
}

/** One entry per resource object, so building the middleware twice registers it once. */
const managed = new WeakMap<object, Managed>()

/**
 * Middy middleware that closes every connection of `resources` before the snapshot and
 * opens them again after the restore, on the same objects. Building it (at module load)
 * registers the hooks; building it again with the same objects registers each once.
 * Invalid options and unknown resources throw a `TypeError` here, at build time.
 *
 * Each invocation waits while the after-restore phase is still running.
 */
export function poolReset(options: PoolResetOptions) {
  registerPoolReset(options)
  return { before: poolResetMiddlewareBefore }
}

function poolResetMiddlewareBefore(request: { context: object }): Promise<void> | undefined {
  if (shared().running === undefined || isPriming(request.context)) return undefined
  return whenSettled()
}

/**
 * The same as `poolReset()` for code that uses the registry without middy: registers one
 * resource per entry of `resources` and returns their names and an `unregister()`.
 */
export function registerPoolReset(options: PoolResetOptions): PoolReset {
  validate(options)
  const prewarm = options.prewarm ?? 0
  const drainTimeoutMs = options.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS

  const entries = Array.isArray(options.resources)
    ? options.resources.map((value, index) => ({ value, label: `resources[${index}]` }))
    : Object.entries(options.resources).map(([key, value]) => ({
        value,
        label: `resources.${key}`,
        key,
      }))

  // Every resource is checked before any is registered: a bad one registers nothing. The
  // same object listed twice is one resource; two objects may not share a name.
  const byName = new Map<string, { label: string; item: Managed }>()
  for (const entry of entries) {
    const item = manage(entry, prewarm, drainTimeoutMs)
    const other = byName.get(item.name)
    if (other !== undefined && other.item !== item) {
      throw new TypeError(
        `poolReset: ${other.label} and ${entry.label} are both named ` +
          `"${shortName(item.name)}"; give each resource its own name, as the phase reports ` +
          'show them by name',
      )
    }
    byName.set(item.name, { label: other?.label ?? entry.label, item })
  }
  const items = [...byName.values()].map(({ item }) => item)
  const handles: ResourceHandle[] = items.map((item) =>
    registerPackageResource({
      name: item.name,
      beforeSnapshot: item.beforeSnapshot,
      afterRestore: item.afterRestore,
    }),
  )
  return {
    names: handles.map((handle) => handle.name),
    unregister() {
      for (const handle of handles) handle.unregister()
    },
  }
}

function manage(
  entry: { value: unknown; label: string; key?: string },
  prewarm: number,
  drainTimeoutMs: number,
): Managed {
  const { value, label } = entry
  if ((typeof value !== 'object' && typeof value !== 'function') || value === null) {
    throw new TypeError(`poolReset: ${label} is ${describeInstance(value)}; expected ${ACCEPTED}`)
  }
  const known = managed.get(value)
  if (known !== undefined) {
    if (known.prewarm !== prewarm || known.drainTimeoutMs !== drainTimeoutMs) {
      throw new TypeError(
        `poolReset: ${label} ("${known.name}") is already managed with prewarm ` +
          `${known.prewarm} and drainTimeoutMs ${known.drainTimeoutMs}; give the same options ` +
          'each time the middleware is built',
      )
    }
    return known
  }

  const adapter = recognise(value)
  if (adapter === undefined && looksLikeCustomResource(value)) {
    throw new TypeError(
      `poolReset: ${label}.${customResourceProblem(value)}; a resource of your own is ` +
        '{ name, close(), reopen?() }',
    )
  }
  if (adapter === undefined) {
    throw new TypeError(
      `poolReset: ${label} (${describeInstance(value)}) is not a resource this middleware knows; ` +
        `expected ${ACCEPTED}`,
    )
  }
  const unusable = adapter.unusable?.()
  if (unusable !== undefined) {
    throw new TypeError(
      `poolReset: ${label} (${adapter.kind}) cannot be managed: ${unusable}. Pass it before ` +
        'ending it, or leave it out.',
    )
  }

  const own = (value as { name?: unknown }).name
  const base = entry.key ?? (adapter.kind === 'custom' ? String(own) : numbered(adapter.kind))
  const item = createManaged(`pool-reset:${base}`, adapter, prewarm, drainTimeoutMs)
  managed.set(value, item)
  return item
}

function createManaged(
  name: string,
  adapter: Adapter,
  prewarm: number,
  drainTimeoutMs: number,
): Managed {
  async function poolResetBeforeSnapshot(phase: PhaseContext): Promise<PoolResetDetails> {
    const start = performance.now()
    const drain = deadlineIn(Math.min(drainTimeoutMs, phase.remainingMs()), phase.signal)
    const closing = deadlineIn(phase.remainingMs(), phase.signal)
    const counts = await adapter.close({ name, drain, closing, drainTimeoutMs })
    const forced = counts.forced ?? 0
    if (forced > 0) {
      log(
        'warn',
        `pool-reset: "${shortName(name)}" destroyed ${forced} busy connection(s) after ` +
          `${drainTimeoutMs} ms before the snapshot; their work failed`,
        {
          type: 'snapstart.pool-reset',
          resource: name,
          forced,
          drainTimeoutMs,
        },
      )
    }
    return { kind: adapter.kind, ...counts, forced, ms: elapsed(start) }
  }

  async function poolResetAfterRestore(phase: PhaseContext): Promise<PoolResetDetails> {
    const start = performance.now()
    const remaining = phase.remainingMs()
    // Give up a little before the phase does, so the report names this resource's error.
    const deadline = deadlineIn(remaining - Math.min(100, remaining / 10), phase.signal)
    try {
      const counts = await adapter.reopen({ name, prewarm, deadline })
      return { kind: adapter.kind, ...counts, ms: elapsed(start) }
    } catch (error) {
      const cause = error instanceof DeadlinePassed ? undefined : error
      throw new PoolResetReopenError(name, performance.now() - start, cause)
    }
  }

  return {
    name,
    adapter,
    prewarm,
    drainTimeoutMs,
    beforeSnapshot: poolResetBeforeSnapshot,
    afterRestore: poolResetAfterRestore,
  }
}

const seen = new Map<string, number>()

/** `pg.Pool#1`, `pg.Pool#2`, ...: a name for an unnamed resource, unique in the process. */
function numbered(kind: string): string {
  const next = (seen.get(kind) ?? 0) + 1
  seen.set(kind, next)
  return `${kind}#${next}`
}

function elapsed(start: number): number {
  return Math.round((performance.now() - start) * 1000) / 1000
}

function validate(options: PoolResetOptions): void {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new TypeError('poolReset: options must be an object, for example { resources: [pool] }')
  }
  for (const key of Object.keys(options)) {
    if (!KNOWN_OPTIONS.has(key)) {
      throw new TypeError(
        `poolReset: unknown option "${key}"; known options: ${[...KNOWN_OPTIONS].join(', ')}`,
      )
    }
  }
  const { resources, prewarm, drainTimeoutMs } = options
  const isList = Array.isArray(resources)
  const isRecord = typeof resources === 'object' && resources !== null && !isList
  if (!isList && !isRecord) {
    throw new TypeError('poolReset: "resources" must be an array or an object of resources')
  }
  if ((isList ? resources.length : Object.keys(resources).length) === 0) {
    throw new TypeError('poolReset: "resources" is empty; give at least one resource')
  }
  if (prewarm !== undefined && !(Number.isInteger(prewarm) && prewarm >= 0)) {
    throw new TypeError(`poolReset: "prewarm" must be a whole number >= 0, got ${prewarm}`)
  }
  if (drainTimeoutMs !== undefined) checkMilliseconds(drainTimeoutMs, 'poolReset', 'drainTimeoutMs')
}
