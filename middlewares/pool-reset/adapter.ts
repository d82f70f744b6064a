import type { Deadline } from './deadline.js'

/** What an adapter's `close` receives. */
export interface CloseContext {
  /** The resource's name in reports. */
  readonly name: string
  /** Until when work in flight may finish; then what is still busy is destroyed. */
  readonly drain: Deadline
  /** Until when closing (after the drain) may take: the rest of the phase's budget. */
  readonly closing: Deadline
  /** `drainTimeoutMs`, for error messages. */
  readonly drainTimeoutMs: number
}

/** What an adapter's `reopen` receives. */
export interface ReopenContext {
  /** The resource's name in reports. */
  readonly name: string
  /** Connections to open now, for kinds that open lazily. */
  readonly prewarm: number
  /** Until when opening may take. */
  readonly deadline: Deadline
}

/**
 * Counts an adapter reports; they become the phase report's `details`. `closed` counts every
 * connection closed; `forced` those of them that were still busy when the drain time ran out
 * and were destroyed with their work in flight.
 */
export type Counts = { closed?: number; forced?: number; opened?: number } & Record<string, unknown>

/** How one kind of resource is closed before the snapshot and reopened after the restore. */
export interface Adapter {
  /** The kind, as shown in reports: `pg.Pool`, `ioredis`, `http.Agent`, ... */
  readonly kind: string
  /** Why the object cannot be managed (for example a pool already ended), or undefined. */
  unusable?(): string | undefined
  /**
   * Closes every connection: waits for work in flight until `context.drain`, then destroys
   * what is still busy. Rejects only when something cannot be closed by force.
   */
  close(context: CloseContext): Promise<Counts>
  /** Opens again after the restore, within `context.deadline`. */
  reopen(context: ReopenContext): Promise<Counts>
}
