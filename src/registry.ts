import { describeValue } from './describe.js'
import { SnapStartLateRegistrationError } from './errors.js'
import { log } from './log.js'
import { type HookEntry, type ResourceRecord, shared } from './state.js'
import type { Hook, PhaseName, RegisteredHook, ResourceHandle, ResourceOptions } from './types.js'

/**
 * Registers `hook` to run before the snapshot is taken, called with `args`. Before-snapshot
 * hooks run in reverse registration order (the last registered runs first), one at a time,
 * each awaited. Registering the same function with the same arguments again does nothing;
 * with other arguments it adds a hook named `<name>#2` (then `#3`, ...) in reports.
 *
 * Returns `hook`, so it also works as a decorator-style wrapper:
 * `const close = registerBeforeSnapshot(async function close() { ... })`.
 */
export function registerBeforeSnapshot<A extends unknown[], F extends Hook<A>>(
  hook: F,
  ...args: A
): F {
  register('beforeSnapshot', hook, args)
  return hook
}

/**
 * Registers `hook` to run after the snapshot is restored, called with `args`. After-restore
 * hooks run in registration order, one at a time, each awaited, within the restore budget
 * (10 000 ms by default). Registering the same function with the same arguments again does
 * nothing; with other arguments it adds a hook named `<name>#2` (then `#3`, ...) in reports.
 *
 * Returns `hook`, so it also works as a decorator-style wrapper.
 */
export function registerAfterRestore<A extends unknown[], F extends Hook<A>>(
  hook: F,
  ...args: A
): F {
  register('afterRestore', hook, args)
  return hook
}

/**
 * Registers code that owns both halves of a snapshot: `beforeSnapshot` closes what must not
 * be frozen, `afterRestore` reopens it. If a later before-snapshot hook fails, the resource's
 * `afterRestore` runs to roll it back. Each half receives a `PhaseContext` (budget, signal).
 *
 * Registering the same `name` with the same two functions again registers nothing more: the
 * registrations share the hooks, and each gets its own handle. The hooks leave the registry
 * once every handle sharing them has called `unregister()`.
 */
export function registerResource(options: ResourceOptions): ResourceHandle {
  return registerRecord(options, false)
}

/**
 * `registerResource` for this package's own middlewares, whose hooks may also report short
 * labels (`kind: 'pg.Pool'`, `refresh: 'eager'`) in `details`. Not part of the public API:
 * a user's resource keeps numbers and booleans only.
 */
export function registerPackageResource(options: ResourceOptions): ResourceHandle {
  return registerRecord(options, true)
}

function registerRecord(options: ResourceOptions, labels: boolean): ResourceHandle {
  validateResource(options)
  const state = shared()
  const existing = state.entries.find(
    (entry) =>
      entry.resource?.name === options.name &&
      (entry.resource.before?.fn ?? undefined) === options.beforeSnapshot &&
      (entry.resource.after?.fn ?? undefined) === options.afterRestore,
  )
  if (existing?.resource !== undefined) {
    existing.resource.owners++
    return handleFor(existing.resource)
  }

  const record: ResourceRecord = { name: options.name, owners: 1, labels }
  const priority = options.priority ?? 0
  if (options.beforeSnapshot !== undefined) {
    record.before = add(
      'beforeSnapshot',
      options.beforeSnapshot,
      [],
      options.name,
      priority,
      record,
    )
  }
  if (options.afterRestore !== undefined) {
    record.after = add('afterRestore', options.afterRestore, [], options.name, priority, record)
  }
  return handleFor(record)
}

/** The before-snapshot hooks in the order they will run. */
export function getBeforeSnapshot(): readonly RegisteredHook[] {
  return Object.freeze(ordered('beforeSnapshot').map(describe))
}

/** The after-restore hooks in the order they will run. */
export function getAfterRestore(): readonly RegisteredHook[] {
  return Object.freeze(ordered('afterRestore').map(describe))
}

/**
 * The entries of `phase` in run order. After restore: higher priority first, then
 * registration order. Before the snapshot: the exact reverse.
 */
export function ordered(phase: PhaseName): HookEntry[] {
  const list = shared().entries.filter((entry) => entry.phase === phase)
  list.sort((a, b) => b.priority - a.priority || a.seq - b.seq)
  if (phase === 'beforeSnapshot') list.reverse()
  return list
}

function register(phase: PhaseName, hook: Hook, args: unknown[]): void {
  if (typeof hook !== 'function') {
    throw new TypeError(
      `register${phase === 'beforeSnapshot' ? 'BeforeSnapshot' : 'AfterRestore'} expects a ` +
        `function as its first argument, got ${describeValue(hook)}`,
    )
  }
  const state = shared()
  const duplicate = state.entries.some(
    (entry) =>
      entry.phase === phase &&
      entry.resource === undefined &&
      entry.fn === hook &&
      sameArgs(entry.args, args),
  )
  if (duplicate) return
  add(phase, hook, args, undefined, 0, undefined)
}

function add(
  phase: PhaseName,
  fn: Hook,
  args: unknown[],
  name: string | undefined,
  priority: number,
  resource: ResourceRecord | undefined,
): HookEntry | undefined {
  const state = shared()
  if (state.ran.has(phase)) {
    rejectLate(phase, name ?? hookName(fn, undefined))
    return undefined
  }
  const seq = ++state.seq
  const entry: HookEntry = {
    seq,
    phase,
    name: name ?? hookName(fn, seq, occurrence(phase, fn)),
    fn,
    args: Object.freeze([...args]),
    priority,
    resource,
  }
  state.entries.push(entry)
  return entry
}

/**
 * A hook registered for a phase that already ran (or is running) cannot run in this
 * environment. It is not kept, so a handler that registers on every invocation does not grow
 * the registry; strict mode throws, otherwise one warning per phase and name says so.
 */
function rejectLate(phase: PhaseName, name: string): void {
  const state = shared()
  if (state.strict) throw new SnapStartLateRegistrationError(phase, name)
  const key = `${phase}:${name}`
  if (state.warnedLate.has(key)) return
  state.warnedLate.add(key)
  log('warn', new SnapStartLateRegistrationError(phase, name).message, {
    type: 'snapstart.lateRegistration',
    phase,
    hook: name,
  })
}

/**
 * A plain hook's name: the function's name, `name#N` for the Nth registration of the same
 * function in a phase (with other arguments), or `anonymous#<seq>`, already unique.
 */
function hookName(fn: Function, seq: number | undefined, nth = 1): string {
  if (typeof fn.name !== 'string' || fn.name === '') {
    return seq === undefined ? 'anonymous' : `anonymous#${seq}`
  }
  return nth === 1 ? fn.name : `${fn.name}#${nth}`
}

/** Which registration of `fn` as a plain hook of `phase` the next one is, from 1. */
function occurrence(phase: PhaseName, fn: Hook): number {
  const earlier = shared().entries.filter(
    (entry) => entry.phase === phase && entry.resource === undefined && entry.fn === fn,
  )
  return earlier.length + 1
}

function sameArgs(a: readonly unknown[], b: readonly unknown[]): boolean {
  return a.length === b.length && a.every((value, index) => Object.is(value, b[index]))
}

function describe(entry: HookEntry): RegisteredHook {
  return Object.freeze({
    name: entry.name,
    hook: entry.fn,
    args: entry.args,
    priority: entry.priority,
    ...(entry.resource ? { resource: entry.resource.name } : {}),
  })
}

/**
 * One owner's handle on a resource record. Its `unregister()` gives up this owner's share
 * once, however often it is called; the last owner to leave takes the hooks out.
 */
function handleFor(record: ResourceRecord): ResourceHandle {
  let released = false
  return {
    name: record.name,
    get registered() {
      return !released && shared().entries.some((entry) => entry.resource === record)
    },
    unregister() {
      if (released) return
      released = true
      record.owners--
      if (record.owners > 0) return
      const state = shared()
      state.entries = state.entries.filter((entry) => entry.resource !== record)
    },
  }
}

function validateResource(options: ResourceOptions): void {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`registerResource expects an options object, got ${describeValue(options)}`)
  }
  const known = new Set(['name', 'beforeSnapshot', 'afterRestore', 'priority'])
  for (const key of Object.keys(options)) {
    if (!known.has(key)) {
      throw new TypeError(
        `registerResource: unknown option "${key}"; expected name, beforeSnapshot, ` +
          'afterRestore or priority',
      )
    }
  }
  if (typeof options.name !== 'string' || options.name.trim() === '') {
    throw new TypeError('registerResource: "name" must be a non-empty string')
  }
  for (const key of ['beforeSnapshot', 'afterRestore'] as const) {
    if (options[key] !== undefined && typeof options[key] !== 'function') {
      throw new TypeError(
        `registerResource "${options.name}": "${key}" must be a function, got ` +
          describeValue(options[key]),
      )
    }
  }
  if (options.beforeSnapshot === undefined && options.afterRestore === undefined) {
    throw new TypeError(
      `registerResource "${options.name}": give beforeSnapshot, afterRestore or both`,
    )
  }
  if (options.priority !== undefined && !Number.isFinite(options.priority)) {
    throw new TypeError(
      `registerResource "${options.name}": "priority" must be a finite number, got ` +
        describeValue(options.priority),
    )
  }
}
