import { describeValue } from '../../src/describe.js'
import { registerPackageResource } from '../../src/registry.js'
import type { ResourceHandle } from '../../src/types.js'
import { RngReseedError } from './errors.js'
import { installGenerator, reseedGenerator } from './generator.js'
import { spendUuidCache } from './uuid-cache.js'

/**
 * The priority tier of the reseed: above every other tier this package uses, so that after
 * the restore it runs before any other hook, whatever the registration order, and no hook
 * draws an id from snapshot-time state. A hook that must run right after the reseed can use
 * `RNG_RESEED_PRIORITY - 1`.
 */
export const RNG_RESEED_PRIORITY = 1_000_000

/** The reseed's name in the registry and in phase reports. */
export const RNG_RESEED_NAME = 'rng-reseed'

/** A function that gives another generator fresh state; it may return a promise. */
export type ReseedFunction = () => unknown

/** Options of `rngReseed()` and `registerRngReseed()`. */
export interface RngReseedOptions {
  /**
   * Functions called after the restore, in order, once `Math.random` and the
   * `crypto.randomUUID()` cache are fresh: for generators this package cannot see (a seeded
   * PRNG, a test-data generator, a pool of random bytes). Each is called once per restore,
   * even when several handlers list it. Default: none.
   */
  reseed?: ReseedFunction[]
}

/** What the reseed reports in the after-restore phase report (`hooks[].details`). */
export interface RngReseedDetails {
  /** `reseeded`, or `replaced-by-other-code` when other code owns `Math.random` now. */
  mathRandom: 'reseeded' | 'replaced-by-other-code'
  /** Ids drawn from `crypto.randomUUID()` to spend its cache. */
  uuidIdsSpent: number
  /** Functions from `reseed` that were called. */
  reseedFunctions: number
}

/** The smallest shape of a middy request; the middleware reads nothing from it. */
type Request = object

/** One registration of the reseed: its handle and the `reseed` functions it brought. */
interface Owner {
  readonly handle: ResourceHandle
  readonly functions: readonly ReseedFunction[]
}

/** The registrations of every copy of this package in the process, and the one hook. */
interface ReseedStore {
  readonly owners: Set<Owner>
  readonly hook: () => Promise<RngReseedDetails>
}

const KEY = Symbol.for('middy-snapstart.rng-reseed.owners')
const KNOWN_OPTIONS = new Set(['reseed'])

/**
 * Middy middleware that makes random state unique again after a restore. Building it (at
 * module load) replaces `Math.random` with a generator seeded from `crypto` and registers one
 * after-restore hook in the top priority tier, `RNG_RESEED_PRIORITY`, which reseeds that
 * generator, spends Node's `crypto.randomUUID()` entropy cache and calls each `reseed`
 * function. It costs nothing per invocation: `before` is an empty synchronous function,
 * there only because middy requires one of `before`, `after` or `onError`.
 */
export function rngReseed(options: RngReseedOptions = {}) {
  register('rngReseed', options)
  return { before: rngReseedMiddlewareBefore }
}

/**
 * The same as `rngReseed()` without middy: replaces `Math.random` now and registers the
 * after-restore reseed. Calling it again (from any copy of the package) adds the new
 * `reseed` functions to the one registered hook. The handle's `unregister()` takes back only
 * the functions this call added; the hook leaves the registry with its last registration.
 */
export function registerRngReseed(options: RngReseedOptions = {}): ResourceHandle {
  return register('registerRngReseed', options)
}

function rngReseedMiddlewareBefore(_request: Request): undefined {
  return undefined
}

function register(caller: string, options: RngReseedOptions): ResourceHandle {
  validate(caller, options)
  installGenerator()

  const store = reseedStore()
  const handle = registerPackageResource({
    name: RNG_RESEED_NAME,
    afterRestore: store.hook,
    priority: RNG_RESEED_PRIORITY,
  })
  const owner: Owner = { handle, functions: [...(options.reseed ?? [])] }
  dropForgotten(store.owners)
  store.owners.add(owner)

  return {
    name: handle.name,
    get registered() {
      return handle.registered
    },
    unregister() {
      store.owners.delete(owner)
      handle.unregister()
    },
  }
}

function reseedStore(): ReseedStore {
  const holder = globalThis as { [KEY]?: ReseedStore }
  if (holder[KEY] !== undefined) return holder[KEY]

  const owners = new Set<Owner>()
  async function rngReseedAfterRestore(): Promise<RngReseedDetails> {
    const mathRandom = reseedGenerator()
    const uuidIdsSpent = spendUuidCache()

    let called = 0
    for (const fn of liveFunctions(owners)) {
      try {
        await fn()
      } catch (error) {
        throw new RngReseedError(functionLabel(fn, called), error)
      }
      called++
    }
    return { mathRandom, uuidIdsSpent, reseedFunctions: called }
  }
  holder[KEY] = { owners, hook: rngReseedAfterRestore }
  return holder[KEY]
}

/** The functions of the registrations still in the registry, each once, in their order. */
function liveFunctions(owners: Set<Owner>): ReseedFunction[] {
  dropForgotten(owners)
  const functions = new Set<ReseedFunction>()
  for (const owner of owners) {
    for (const fn of owner.functions) functions.add(fn)
  }
  return [...functions]
}

/**
 * Drops the registrations whose hook left the registry without their `unregister()`:
 * `reset()` forgot them, or they came after the phase ran. No one will unregister them.
 */
function dropForgotten(owners: Set<Owner>): void {
  for (const owner of owners) {
    if (!owner.handle.registered) owners.delete(owner)
  }
}

function functionLabel(fn: Function, index: number): string {
  return fn.name === '' ? `#${index} (anonymous)` : fn.name
}

function validate(caller: string, options: RngReseedOptions): void {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new TypeError(
      `${caller}: options must be an object such as { reseed: [resetFaker] }, got ` +
        describeValue(options),
    )
  }
  for (const key of Object.keys(options)) {
    if (!KNOWN_OPTIONS.has(key)) {
      throw new TypeError(`${caller}: unknown option "${key}"; the only option is "reseed"`)
    }
  }
  const { reseed } = options
  if (reseed === undefined) return
  if (!Array.isArray(reseed)) {
    throw new TypeError(
      `${caller}: "reseed" must be an array of functions, got ${describeValue(reseed)}`,
    )
  }
  const bad = reseed.findIndex((fn) => typeof fn !== 'function')
  if (bad !== -1) {
    throw new TypeError(
      `${caller}: "reseed" must be an array of functions; reseed[${bad}] is ` +
        describeValue(reseed[bad]),
    )
  }
}
