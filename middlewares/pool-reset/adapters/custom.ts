import type { Adapter, CloseContext, ReopenContext } from '../adapter.js'
import { beforeDeadline, DeadlinePassed, leftMs } from '../deadline.js'
import { PoolResetDrainTimeoutError } from '../errors.js'

/**
 * Any other resource, described by its own functions. `close` runs before the snapshot and
 * `reopen` after the restore; each may return how many connections it closed or opened
 * (default 1 for `close`, and 1 for `reopen` when it exists).
 */
export interface CustomResource {
  /** The name shown in phase reports. */
  name: string
  /**
   * Closes every connection. Receives what is left of the drain time, in milliseconds; it
   * must settle within it (the middleware cannot close a custom resource by force), or the
   * before-snapshot phase fails with `PoolResetDrainTimeoutError`.
   */
  close(info: { timeoutMs: number; signal: AbortSignal }): unknown
  /** Opens again after the restore. Receives the prewarm count and the time left. */
  reopen?(info: { prewarm: number; timeoutMs: number; signal: AbortSignal }): unknown
}

/** An object with a non-empty `name`, a `close()` and, if present, a `reopen()` function. */
export function isCustomResource(value: object): value is CustomResource {
  return customResourceProblem(value) === undefined
}

/**
 * What keeps `value` from being a custom resource, as `<field> must be ...` (the field
 * first, for a message that prefixes its path), or `undefined` when it is one.
 */
export function customResourceProblem(value: object): string | undefined {
  const resource = value as Partial<Record<keyof CustomResource, unknown>>
  if (typeof resource.name !== 'string' || resource.name.trim() === '') {
    return 'name must be a non-empty string: the name shown in phase reports'
  }
  if (typeof resource.close !== 'function') {
    return 'close must be a function that closes every connection before the snapshot'
  }
  if (resource.reopen !== undefined && typeof resource.reopen !== 'function') {
    return 'reopen must be a function that opens again after the restore, or left out'
  }
  return undefined
}

/** Whether `value` is a plain object that names a custom resource's fields. */
export function looksLikeCustomResource(value: object): boolean {
  const prototype = Object.getPrototypeOf(value)
  if (prototype !== Object.prototype && prototype !== null) return false
  return ['name', 'close', 'reopen'].some((key) => Object.hasOwn(value, key))
}

function count(value: unknown, fallback: number): number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 ? value : fallback
}

/** Calls the resource's own `close` and `reopen`, within the phase's time. */
export function customAdapter(resource: CustomResource): Adapter {
  return {
    kind: 'custom',
    async close({ name, drain, drainTimeoutMs }: CloseContext) {
      const timeoutMs = leftMs(drain)
      const info = { timeoutMs, signal: drain.signal }
      try {
        const value = await beforeDeadline(Promise.resolve(resource.close(info)), drain)
        return { closed: count(value, 1), forced: 0 }
      } catch (error) {
        if (!(error instanceof DeadlinePassed)) throw error
        throw new PoolResetDrainTimeoutError(name, 1, drainTimeoutMs, 'close() had not settled')
      }
    },
    async reopen({ prewarm, deadline }: ReopenContext) {
      if (resource.reopen === undefined) return { opened: 0 }
      const timeoutMs = leftMs(deadline)
      const info = { prewarm, timeoutMs, signal: deadline.signal }
      const value = await beforeDeadline(Promise.resolve(resource.reopen(info)), deadline)
      return { opened: count(value, 1) }
    },
  }
}
