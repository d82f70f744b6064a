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
  const resource = value as Partial<CustomResource>
  return (
    typeof resource.name === 'string' &&
    resource.name.trim() !== '' &&
    typeof resource.close === 'function' &&
    (resource.reopen === undefined || typeof resource.reopen === 'function')
  )
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
