import { log } from '../../src/log.js'
import { registerPackageResource } from '../../src/registry.js'
import type { PhaseContext, ResourceHandle } from '../../src/types.js'
import { SecretRefreshError, SecretTimeoutError } from './errors.js'
import { type ClearCache, findMiddyCaches } from './middy-cache.js'
import { type Entry, type Settings, settingsFrom } from './options.js'
import { Clients, fetchEntry } from './sources.js'
import type { SecretRefreshDetails, SecretRefreshOptions } from './types.js'

/** The secrets of one `registerSecretRefresh()`, kept fresh across restores. */
export interface SecretStore {
  /** The entries' names, in the order given. */
  readonly names: readonly string[]
  /** The resource's name in phase reports: `secret-refresh(<names>)`. */
  readonly resource: string
  /**
   * The value of `name`, fetched again first when it has expired (restore, `maxAgeMs`).
   * Rejects with a `SecretRefreshError` when the fetch fails and the entry is not optional.
   */
  get(name: string): Promise<unknown>
  /** Every value, keyed by name, each fetched again first when it has expired. */
  values(): Promise<Record<string, unknown>>
  /**
   * Removes the hooks from the registry, aborts every fetch in flight (its result, if one
   * still arrives, is dropped) and destroys the SDK clients, closing their sockets. Safe to
   * call twice.
   */
  unregister(): void
}

interface Slot {
  readonly entry: Entry
  has: boolean
  value: unknown
  /** `Date.now()` when the value was fetched, for `maxAgeMs`. */
  fetchedAt: number
  /** The store's epoch the value belongs to; a restore starts a new epoch. */
  epoch: number
  inFlight?: { epoch: number; promise: Promise<void> }
  /** The last fetch's error, while the entry has no value of this epoch. */
  lastError?: SecretRefreshError
}

/**
 * The same as `secretRefresh()` for code that uses the registry without middy: validates
 * the options (a `TypeError` naming the problem), starts fetching every entry in parallel,
 * registers the hooks and returns the store to read the values from.
 */
export function registerSecretRefresh(options: SecretRefreshOptions): SecretStore {
  return createStore(options)
}

/** What the middleware uses beyond the public store. */
export interface Internal {
  /** Every value when all are fresh (no promise, no allocation of one), else a promise. */
  current(): Record<string, unknown> | Promise<Record<string, unknown>>
}

/** Builds a store, registers its hooks and starts its fetches. */
export function createStore(options: SecretRefreshOptions): SecretStore & Internal {
  const settings = settingsFrom(options)
  const store = new Store(settings)
  store.attach(
    registerPackageResource({
      name: store.resource,
      beforeSnapshot: store.beforeSnapshot,
      afterRestore: store.afterRestore,
    }),
  )
  store.prefetch()
  return store
}

class Store implements SecretStore, Internal {
  readonly names: readonly string[]
  readonly resource: string
  readonly #settings: Settings
  readonly #slots: Slot[]
  readonly #byName: Map<string, Slot>
  readonly #clients: Clients
  /** One controller per fetch in flight, so `unregister()` can stop them all. */
  readonly #fetching = new Set<AbortController>()
  #handle: ResourceHandle | undefined
  #epoch = 0
  #cached: Record<string, unknown> | undefined
  #middyCaches: ClearCache[] | undefined

  constructor(settings: Settings) {
    this.#settings = settings
    this.#slots = settings.entries.map((entry) => ({
      entry,
      has: false,
      value: undefined,
      fetchedAt: 0,
      epoch: -1,
    }))
    this.#byName = new Map(this.#slots.map((slot) => [slot.entry.name, slot]))
    this.#clients = new Clients(settings.awsClientOptions)
    this.names = settings.entries.map((entry) => entry.name)
    this.resource = `secret-refresh(${this.names.join(',')})`
  }

  /** Keeps the registry handle that `unregister()` gives back. */
  attach(handle: ResourceHandle): void {
    this.#handle = handle
  }

  unregister(): void {
    if (this.#handle === undefined) return
    this.#handle.unregister()
    this.#handle = undefined
    this.#epoch++
    this.#cached = undefined
    const reason = new Error(`secretRefresh: ${this.resource} was unregistered`)
    for (const controller of this.#fetching) controller.abort(reason)
    this.#fetching.clear()
    this.#clients.renew()
  }

  /** Starts every fetch without awaiting it, as middy's prefetch does at module load. */
  prefetch(): void {
    for (const slot of this.#slots) this.#load(slot).catch(() => {})
  }

  async get(name: string): Promise<unknown> {
    const slot = this.#byName.get(name)
    if (slot === undefined) {
      throw new TypeError(`secretRefresh: no secret named "${name}"; known: ${this.names}`)
    }
    if (!this.#fresh(slot)) await this.#load(slot)
    return slot.value
  }

  async values(): Promise<Record<string, unknown>> {
    return this.current()
  }

  current(): Record<string, unknown> | Promise<Record<string, unknown>> {
    // Without maxAgeMs only a new epoch expires a value, and starting one drops the cache.
    if (this.#cached !== undefined && this.#settings.maxAgeMs === undefined) return this.#cached
    const stale = this.#slots.filter((slot) => !this.#fresh(slot))
    if (stale.length === 0) return this.#cached ?? this.#snapshot()
    return Promise.all(stale.map((slot) => this.#load(slot))).then(() => this.#snapshot())
  }

  /**
   * Waits for every fetch still in flight, so none straddles the snapshot: a request signed
   * now and answered after the restore would carry a stale signature and dead socket. Fails
   * the snapshot when the last fetch of an entry that is not optional failed.
   */
  readonly beforeSnapshot = async (): Promise<SecretRefreshDetails> => {
    const inFlight = this.#slots.filter((slot) => slot.inFlight !== undefined)
    await Promise.allSettled(inFlight.map((slot) => slot.inFlight!.promise))

    const failed = this.#slots.find((slot) => !slot.entry.optional && slot.lastError)
    if (failed?.lastError !== undefined) throw failed.lastError
    if (this.#settings.clearMiddyCache === true) this.#middyCaches ??= await findMiddyCaches()
    return this.#details(inFlight.length, 0)
  }

  /**
   * Everything fetched before the snapshot expires: a new epoch starts, the SDK clients are
   * replaced (their cached credentials belong to another time), middy's caches are cleared
   * when asked, and in eager mode every entry is fetched again in parallel within the budget.
   */
  readonly afterRestore = async (phase: PhaseContext): Promise<SecretRefreshDetails> => {
    this.#epoch++
    this.#cached = undefined
    this.#clients.renew()
    const cleared = await this.#clearMiddyCaches()
    const middy = cleared === undefined ? {} : { middyCachesCleared: cleared }
    if (this.#settings.refresh === 'lazy') return { ...this.#details(0, 0), ...middy }

    const kept = { count: 0 }
    const results = await Promise.allSettled(
      this.#slots.map((slot) => this.#load(slot, phase, kept)),
    )
    const failure = results.find((result) => result.status === 'rejected')
    if (failure !== undefined) throw failure.reason
    return { ...this.#details(this.#slots.length - kept.count, kept.count), ...middy }
  }

  async #clearMiddyCaches(): Promise<number | undefined> {
    const option = this.#settings.clearMiddyCache
    if (option === false) return undefined
    if (option === true) this.#middyCaches ??= await findMiddyCaches()
    const clears = option === true ? (this.#middyCaches ?? []) : option
    for (const clear of clears) clear()
    return clears.length
  }

  #fresh(slot: Slot): boolean {
    if (slot.epoch !== this.#epoch) return false
    const maxAgeMs = this.#settings.maxAgeMs
    return maxAgeMs === undefined || Date.now() - slot.fetchedAt < maxAgeMs
  }

  /**
   * Fetches one entry, sharing a fetch already in flight for the same epoch. A result that
   * arrives after a restore started a new epoch is dropped.
   */
  #load(slot: Slot, phase?: PhaseContext, kept?: { count: number }): Promise<void> {
    const epoch = this.#epoch
    if (slot.inFlight?.epoch === epoch) return slot.inFlight.promise

    const promise = this.#fetch(slot.entry, phase).then(
      (value) => {
        if (this.#epoch !== epoch) return
        slot.value = value
        slot.has = true
        slot.fetchedAt = Date.now()
        slot.epoch = epoch
        slot.lastError = undefined
        this.#cached = undefined
      },
      (error: SecretRefreshError) => {
        if (this.#epoch !== epoch) return
        slot.lastError = error
        if (!slot.entry.optional) throw error
        this.#keepPrevious(slot, epoch, error)
        if (kept !== undefined) kept.count++
      },
    )
    const inFlight = { epoch, promise }
    slot.inFlight = inFlight
    const clear = () => {
      if (slot.inFlight === inFlight) slot.inFlight = undefined
    }
    promise.then(clear, clear)
    return promise
  }

  /** An optional entry serves what it had until `maxAgeMs` passes or the next restore. */
  #keepPrevious(slot: Slot, epoch: number, error: SecretRefreshError): void {
    slot.fetchedAt = Date.now()
    slot.epoch = epoch
    this.#cached = undefined
    log(
      'warn',
      `secretRefresh: "${slot.entry.name}" could not be fetched; serving the ` +
        (slot.has ? 'previous value' : 'value undefined (none was fetched before)'),
      {
        type: 'snapstart.secretRefresh.keptPrevious',
        secret: slot.entry.name,
        source: slot.entry.kind,
        error: { name: error.name, message: error.message },
      },
    )
  }

  /**
   * One fetch, with its own abort signal, passed to the SDK call or the function source. It
   * ends when the fetch settles or the signal aborts: at the entry's `timeoutMs`, when the
   * phase it runs in stops or runs out of budget, or when the store is unregistered.
   */
  #fetch(entry: Entry, phase: PhaseContext | undefined): Promise<unknown> {
    const budget = phase === undefined ? Infinity : fetchBudgetMs(phase.remainingMs())
    const timeoutMs = Math.min(entry.timeoutMs, budget)
    const controller = new AbortController()
    this.#fetching.add(controller)
    const onPhaseAbort = () => controller.abort(phase?.signal.reason)
    phase?.signal.addEventListener('abort', onPhaseAbort, { once: true })

    let onAbort: (() => void) | undefined
    const stopped = new Promise<never>((_, reject) => {
      onAbort = () => reject(stopError(entry, controller.signal.reason))
      controller.signal.addEventListener('abort', onAbort, { once: true })
    })
    const timer = setTimeout(() => {
      const byPhase = budget < entry.timeoutMs
      controller.abort(new SecretTimeoutError(entry.name, entry.kind, timeoutMs, byPhase))
    }, timeoutMs)
    const work = fetchEntry(entry, this.#clients, controller.signal)
    work.catch(() => {})
    return Promise.race([work, stopped]).finally(() => {
      clearTimeout(timer)
      this.#fetching.delete(controller)
      controller.signal.removeEventListener('abort', onAbort!)
      phase?.signal.removeEventListener('abort', onPhaseAbort)
    })
  }

  /** Every value, keyed by name; cached only when all belong to the current epoch. */
  #snapshot(): Record<string, unknown> {
    const values: Record<string, unknown> = {}
    let current = true
    for (const slot of this.#slots) {
      values[slot.entry.name] = slot.value
      if (slot.epoch !== this.#epoch) current = false
    }
    const frozen = Object.freeze(values)
    if (current) this.#cached = frozen
    return frozen
  }

  #details(fetched: number, keptPrevious: number): SecretRefreshDetails {
    return {
      secrets: this.#slots.length,
      fetched,
      keptPrevious,
      refresh: this.#settings.refresh,
    }
  }
}

/** The error a stopped fetch rejects with: the timeout's own, else one naming the entry. */
function stopError(entry: Entry, reason: unknown): SecretRefreshError {
  if (reason instanceof SecretRefreshError) return reason
  return new SecretRefreshError(
    entry.name,
    entry.kind,
    `secretRefresh: fetching "${entry.name}" (${entry.kind}) was stopped before it ended`,
    { cause: reason },
  )
}

/**
 * The time a fetch may take inside a phase: what is left of the budget, less a tenth (at
 * most 100 ms), so the fetch times out first and the error names the entry.
 */
function fetchBudgetMs(remainingMs: number): number {
  return Math.max(1, Math.floor(remainingMs - Math.min(100, remainingMs / 10)))
}
