import { EventEmitter } from 'node:events'
import type { Adapter, CloseContext, ReopenContext } from '../adapter.js'
import {
  beforeDeadline,
  type Deadline,
  DeadlinePassed,
  openInParallel,
  waitFor,
} from '../deadline.js'
import { PoolResetDrainTimeoutError } from '../errors.js'

/** The public surface of a `pg` Pool this adapter uses. */
interface PgPool extends EventEmitter {
  connect(): Promise<PgPoolClient>
  query(...args: unknown[]): unknown
  readonly totalCount: number
  readonly idleCount: number
  readonly waitingCount: number
  readonly ending?: boolean
  readonly options?: { max?: number }
}

interface PgPoolClient extends PgConnected {
  release(destroy?: boolean | Error): void
}

/** What pool clients and clients share: `end()`, and the socket under the connection. */
interface PgConnected extends EventEmitter {
  end(): Promise<unknown>
  readonly connection?: { readonly stream?: Stream }
}

type Stream = EventEmitter & { destroyed?: boolean; destroy(): void }

/** The public surface of a `pg` Client this adapter uses. */
interface PgClient extends PgConnected {
  connect(): Promise<unknown>
  query(...args: unknown[]): unknown
  escapeLiteral(value: string): string
  readonly connectionParameters?: object
}

/** A `pg` Pool: it counts its idle, busy and waiting clients. */
export function isPgPool(value: object): value is PgPool {
  const pool = value as Partial<PgPool>
  return (
    value instanceof EventEmitter &&
    typeof pool.connect === 'function' &&
    typeof pool.query === 'function' &&
    typeof pool.totalCount === 'number' &&
    typeof pool.idleCount === 'number' &&
    typeof pool.waitingCount === 'number'
  )
}

/** A `pg` Client: it escapes literals and identifiers, which a pool does not. */
export function isPgClient(value: object): value is PgClient {
  const client = value as Partial<PgClient> & { escapeIdentifier?: unknown }
  return (
    value instanceof EventEmitter &&
    typeof client.connect === 'function' &&
    typeof client.query === 'function' &&
    typeof client.end === 'function' &&
    typeof client.escapeLiteral === 'function' &&
    typeof client.escapeIdentifier === 'function'
  )
}

/**
 * Ends `clients` now, with their queries in flight: `end()` marks each as ending (so the
 * driver emits no `error`), and its socket is destroyed, since a graceful end would wait for
 * the query. Resolves once every socket has closed; returns how many were open.
 */
async function endByForce(clients: readonly PgConnected[], closing: Deadline): Promise<number> {
  const streams = clients
    .map((client) => client.connection?.stream)
    .filter((stream): stream is Stream => stream !== undefined && stream.destroyed !== true)
  const gone = streams.map((stream) => new Promise((resolve) => stream.once('close', resolve)))
  for (const client of clients) client.end().catch(() => {})
  for (const stream of streams) stream.destroy()
  await beforeDeadline(Promise.all(gone), closing)
  return streams.length
}

/**
 * A `pg` Pool is never ended (an ended pool cannot be used again): before the snapshot the
 * adapter waits until no client is checked out, then checks out every idle client and
 * releases it with `release(true)`, which destroys it. The pool itself stays usable and
 * opens new clients on demand after the restore.
 *
 * When `drainTimeoutMs` runs out first, the clients still checked out are ended by force:
 * their queries fail with "Connection terminated". The adapter follows the pool's `acquire`
 * and `release` events from the moment the middleware is built to know them.
 *
 * Limitation: a client checked out before the middleware was built and still held at the
 * drain timeout cannot be reached; the phase then fails with `PoolResetDrainTimeoutError`.
 * Queries still waiting for a free client at the drain timeout may get a new connection.
 */
export function pgPoolAdapter(pool: PgPool): Adapter {
  const busy = () => pool.totalCount - pool.idleCount + pool.waitingCount
  const checkedOut = new Set<PgPoolClient>()
  pool.on('acquire', (client: PgPoolClient) => checkedOut.add(client))
  pool.on('release', (_error: unknown, client: PgPoolClient) => checkedOut.delete(client))
  pool.on('remove', (client: PgPoolClient) => checkedOut.delete(client))

  return {
    kind: 'pg.Pool',
    unusable: () => (pool.ending === true ? 'the pool was ended (pool.end())' : undefined),

    async close({ name, drain, closing, drainTimeoutMs }: CloseContext) {
      if (pool.ending === true) return { closed: 0, endedByUser: true }
      let forced = 0
      const drained = await waitFor(() => busy() === 0, pool, ['release', 'remove'], drain)
      if (!drained) {
        const unseen = pool.totalCount - pool.idleCount - checkedOut.size
        if (unseen > 0) {
          throw new PoolResetDrainTimeoutError(
            name,
            unseen,
            drainTimeoutMs,
            `${unseen} client(s) checked out before the middleware was built were still busy`,
          )
        }
        const stuck = [...checkedOut]
        checkedOut.clear()
        forced = await endByForce(stuck, closing)
      }

      const idle = pool.idleCount
      const removed = new Set<unknown>()
      const allRemoved = waitFor(() => removed.size >= idle, pool, ['remove'], closing)
      const onRemove = (client: unknown) => removed.add(client)
      pool.on('remove', onRemove)
      try {
        const clients = await Promise.all(Array.from({ length: idle }, () => pool.connect()))
        for (const client of clients) client.release(true)
        await allRemoved
      } finally {
        pool.off('remove', onRemove)
      }
      return { closed: idle + forced, forced }
    },

    async reopen({ prewarm, deadline }: ReopenContext) {
      if (pool.ending === true) return { opened: 0, endedByUser: true }
      const count = Math.min(prewarm, pool.options?.max ?? prewarm)
      const opened = await openInParallel(
        count,
        () => pool.connect(),
        (client) => client.release(),
        deadline,
      )
      return { opened }
    },
  }
}

/** The replacement of each `pg` Client closed before a snapshot, by original object. */
const replacements = new WeakMap<object, PgClient>()

/**
 * The `pg` Client to use in place of `client`: a `pg` Client cannot connect twice, so after
 * a restore the adapter connects a new one with the same connection parameters and the same
 * event listeners. Returns `client` itself until then.
 */
export function currentPgClient<T extends object>(client: T): T {
  return (replacements.get(client) as T | undefined) ?? client
}

/**
 * A `pg` Client is ended before the snapshot (by force when `end()` has not finished within
 * the drain time); after the restore a new Client of the same class is connected with the
 * original's connection parameters and listeners, and `currentPgClient(original)` returns it.
 *
 * Limitation: pg 8.23's `end()` itself destroys the socket of a client with a query in flight,
 * so a `pg` Client is not drained: await its queries during init.
 */
export function pgClientAdapter(original: PgClient): Adapter {
  return {
    kind: 'pg.Client',

    async close({ drain, closing }: CloseContext) {
      const client = replacements.get(original) ?? original
      try {
        await beforeDeadline(client.end(), drain)
        return { closed: 1, forced: 0 }
      } catch (error) {
        if (!(error instanceof DeadlinePassed)) throw error
        await endByForce([client], closing)
        return { closed: 1, forced: 1 }
      }
    },

    async reopen({ deadline }: ReopenContext) {
      const Client = original.constructor as new (config?: object) => PgClient
      const next = new Client(original.connectionParameters)
      for (const event of original.eventNames()) {
        for (const listener of original.listeners(event)) {
          next.on(event, listener as (...args: unknown[]) => void)
        }
      }
      try {
        await beforeDeadline(next.connect(), deadline)
      } catch (error) {
        next.end().catch(() => {})
        throw error
      }
      replacements.set(original, next)
      return { opened: 1 }
    },
  }
}
