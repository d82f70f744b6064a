import type { Adapter, CloseContext, ReopenContext } from '../adapter.js'
import { beforeDeadline, DeadlinePassed } from '../deadline.js'
import { PoolResetDrainTimeoutError } from '../errors.js'

/** The public surface of a `mongodb` MongoClient this adapter uses. */
interface MongoClient {
  connect(): Promise<unknown>
  close(force?: boolean): Promise<void>
  db(name?: string): unknown
  startSession(): unknown
}

/** A `mongodb` MongoClient: `db()`, `startSession()`, `connect()` and `close()`. */
export function isMongoClient(value: object): value is MongoClient {
  const client = value as Partial<MongoClient>
  return (
    typeof client.db === 'function' &&
    typeof client.startSession === 'function' &&
    typeof client.connect === 'function' &&
    typeof client.close === 'function'
  )
}

/**
 * `mongodb` MongoClient: `close()` before the snapshot, `connect()` on the same client after
 * the restore; `Db` and `Collection` handles taken from it stay valid. The driver does not
 * say how many sockets its pools held, so `closed` and `opened` count clients (1).
 *
 * Limitation: the driver offers no forced close (mongodb 7 ignores `close(force)`), so a
 * `close()` that has not finished when the drain time runs out fails the before-snapshot
 * phase with `PoolResetDrainTimeoutError`.
 */
export function mongoClientAdapter(client: MongoClient): Adapter {
  return {
    kind: 'mongodb.MongoClient',
    async close({ name, drain, drainTimeoutMs }: CloseContext) {
      try {
        await beforeDeadline(client.close(), drain)
        return { closed: 1, forced: 0 }
      } catch (error) {
        if (!(error instanceof DeadlinePassed)) throw error
        throw new PoolResetDrainTimeoutError(name, 1, drainTimeoutMs, 'close() had not finished')
      }
    },
    async reopen({ deadline }: ReopenContext) {
      await beforeDeadline(client.connect(), deadline)
      return { opened: 1 }
    },
  }
}
