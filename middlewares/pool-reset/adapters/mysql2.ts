import { EventEmitter } from 'node:events'
import type { Adapter, CloseContext, ReopenContext } from '../adapter.js'
import { beforeDeadline, openInParallel, waitFor } from '../deadline.js'

type Callback<T> = (error: Error | null, value: T) => void

interface MysqlConnection extends EventEmitter {
  release(): void
  destroy(): void
  readonly stream?: { destroyed?: boolean; destroy(): void } & EventEmitter
}

/** The public surface of a `mysql2` callback pool this adapter uses. */
interface MysqlPool extends EventEmitter {
  getConnection(callback: Callback<MysqlConnection>): void
  releaseConnection(connection: MysqlConnection): void
  end(callback?: (error?: Error) => void): void
  promise(): unknown
  readonly config?: { connectionLimit?: number }
}

/** A `mysql2` callback pool (`mysql.createPool()`). */
export function isMysqlPool(value: object): value is MysqlPool {
  const pool = value as Partial<MysqlPool>
  return (
    value instanceof EventEmitter &&
    typeof pool.getConnection === 'function' &&
    typeof pool.releaseConnection === 'function' &&
    typeof pool.promise === 'function' &&
    typeof pool.end === 'function'
  )
}

/** A `mysql2` promise pool (`mysql2/promise`'s `createPool()`, or `pool.promise()`). */
export function isMysqlPromisePool(value: object): value is { pool: MysqlPool } {
  const pool = (value as { pool?: unknown }).pool
  return (
    typeof pool === 'object' &&
    pool !== null &&
    isMysqlPool(pool) &&
    typeof (value as { getConnection?: unknown }).getConnection === 'function'
  )
}

/**
 * A `mysql2` pool is never ended (a closed pool rejects every query): from the moment the
 * middleware is built, the adapter follows the pool's `connection`, `acquire` and `release`
 * events. Before the snapshot it waits until every connection is released, then destroys
 * each one, which also removes it from the pool. The pool opens new connections on demand.
 * When `drainTimeoutMs` runs out first, the connections still acquired are destroyed too,
 * with their queries in flight.
 *
 * Limitation: connections the pool opened before `poolReset()` was called are not seen;
 * build the middleware right after `createPool()`.
 */
export function mysqlPoolAdapter(pool: MysqlPool, kind: string): Adapter {
  const open = new Set<MysqlConnection>()
  const busy = new Set<MysqlConnection>()
  // mysql2 has no public "ended" flag; `_closed` is the field `end()` sets, in every 3.x.
  const ended = () => (pool as { _closed?: unknown })._closed === true
  const alive = (connection: MysqlConnection) => connection.stream?.destroyed !== true
  const busyCount = () => [...busy].filter(alive).length

  pool.on('connection', (connection: MysqlConnection) => {
    open.add(connection)
    connection.once('end', () => {
      open.delete(connection)
      busy.delete(connection)
    })
  })
  pool.on('acquire', (connection: MysqlConnection) => busy.add(connection))
  pool.on('release', (connection: MysqlConnection) => busy.delete(connection))

  return {
    kind,
    unusable: () => (ended() ? 'the pool was ended (pool.end())' : undefined),

    async close({ drain, closing }: CloseContext) {
      if (ended()) return { closed: 0, endedByUser: true }
      const drained = await waitFor(() => busyCount() === 0, pool, ['release'], drain)
      const forced = drained ? 0 : busyCount()

      const connections = [...new Set([...open, ...busy])].filter(alive)
      const gone = connections.map((connection) => {
        const stream = connection.stream
        const closed = new Promise<void>((resolve) => {
          if (stream === undefined || stream.destroyed === true) resolve()
          else stream.once('close', () => resolve())
        })
        // `destroy()` removes an idle one from the pool and ends its socket gracefully. A busy
        // one's socket is destroyed instead: its query then fails with "Connection lost" and
        // the driver removes it from the pool (after `destroy()`, its query would never settle).
        if (busy.has(connection) && stream !== undefined) stream.destroy()
        else connection.destroy()
        return closed
      })
      await beforeDeadline(Promise.all(gone), closing)
      open.clear()
      busy.clear()
      return { closed: connections.length, forced }
    },

    async reopen({ prewarm, deadline }: ReopenContext) {
      if (ended()) return { opened: 0, endedByUser: true }
      const count = Math.min(prewarm, pool.config?.connectionLimit ?? prewarm)
      const opened = await openInParallel(
        count,
        () =>
          new Promise<MysqlConnection>((resolve, reject) => {
            pool.getConnection((error, connection) => (error ? reject(error) : resolve(connection)))
          }),
        (connection) => connection.release(),
        deadline,
      )
      return { opened }
    },
  }
}
