import type { Deadline } from './deadline.js'

/** What an adapter's `close` receives. */
export interface CloseContext {
  /** The resource's name in reports. */
  readonly name: string
  /** Until when work in flight may finish. */
  readonly drain: Deadline
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

/** Counts an adapter reports; they become the phase report's `details`. */
export type Counts = { closed?: number; opened?: number } & Record<string, unknown>

/** How one kind of resource is closed before the snapshot and reopened after the restore. */
export interface Adapter {
  /** The kind, as shown in reports: `pg.Pool`, `ioredis`, `http.Agent`, ... */
  readonly kind: string
  /** Why the object cannot be managed (for example a pool already ended), or undefined. */
  unusable?(): string | undefined
  close(context: CloseContext): Promise<Counts>
  reopen(context: ReopenContext): Promise<Counts>
}
