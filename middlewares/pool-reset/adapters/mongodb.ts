import type { Adapter, CloseContext, ReopenContext } from '../adapter.js'
import { beforeDeadline } from '../deadline.js'

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
 */
export function mongoClientAdapter(client: MongoClient): Adapter {
  return {
    kind: 'mongodb.MongoClient',
    async close({ drain }: CloseContext) {
      await beforeDeadline(client.close(), drain)
      return { closed: 1 }
    },
    async reopen({ deadline }: ReopenContext) {
      await beforeDeadline(client.connect(), deadline)
      return { opened: 1 }
    },
  }
}
