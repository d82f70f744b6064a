import type { EventEmitter } from 'node:events'
import type { Adapter, CloseContext, ReopenContext } from '../adapter.js'
import { beforeDeadline, DeadlinePassed } from '../deadline.js'

/** The public surface of an `ioredis` client (or cluster) this adapter uses. */
interface IORedis extends EventEmitter {
  readonly status: string
  connect(): Promise<unknown>
  quit(): Promise<unknown>
  disconnect(reconnect?: boolean): void
  duplicate(...args: unknown[]): unknown
}

/** The public surface of a `redis` (node-redis 4, 5 and later) client this adapter uses. */
interface NodeRedis extends EventEmitter {
  readonly isOpen: boolean
  readonly isReady: boolean
  connect(): Promise<unknown>
  sendCommand(...args: unknown[]): unknown
  /** 5 and later. */
  close?(): Promise<unknown>
  destroy?(): void
  /** 4. */
  quit?(): Promise<unknown>
  disconnect?(): Promise<unknown>
}

/** An `ioredis` client: it has a `status` string and `duplicate()`. */
export function isIORedis(value: object): value is IORedis {
  const client = value as Partial<IORedis>
  return (
    typeof client.status === 'string' &&
    typeof client.connect === 'function' &&
    typeof client.quit === 'function' &&
    typeof client.disconnect === 'function' &&
    typeof client.duplicate === 'function'
  )
}

/** A `redis` (node-redis) client: it has `isOpen`, `isReady` and `sendCommand()`. */
export function isNodeRedis(value: object): value is NodeRedis {
  const client = value as Partial<NodeRedis>
  return (
    typeof client.isOpen === 'boolean' &&
    typeof client.isReady === 'boolean' &&
    typeof client.connect === 'function' &&
    typeof client.sendCommand === 'function'
  )
}

const IOREDIS_OPEN = new Set(['connecting', 'connect', 'ready', 'reconnecting'])

/**
 * `ioredis`: `quit()` before the snapshot (replies to commands in flight arrive first),
 * `disconnect()` when the drain time runs out (commands in flight fail); after the restore
 * `connect()` on the same object, when it was open before. A client that never connected
 * (`lazyConnect`) is left alone.
 */
export function ioredisAdapter(client: IORedis): Adapter {
  let wasOpen = false

  return {
    kind: 'ioredis',

    async close({ drain, closing }: CloseContext) {
      wasOpen = IOREDIS_OPEN.has(client.status)
      if (!wasOpen) return { closed: 0 }
      const ended = new Promise<void>((resolve) => client.once('end', () => resolve()))
      let forced = 0
      try {
        await beforeDeadline(client.quit(), drain)
      } catch (error) {
        if (!(error instanceof DeadlinePassed)) throw error
        forced = 1
        client.disconnect()
      }
      if (client.status !== 'end') await beforeDeadline(ended, closing)
      return { closed: 1, forced }
    },

    async reopen({ deadline }: ReopenContext) {
      if (!wasOpen) return { opened: 0 }
      await beforeDeadline(client.connect(), deadline)
      return { opened: 1 }
    },
  }
}

/**
 * `redis` (node-redis): `close()` (5 and later) or `quit()` (4) before the snapshot, which
 * lets commands in flight finish; `destroy()` or `disconnect()` when the drain time runs out.
 * After the restore `connect()` on the same object, when it was open before.
 */
export function nodeRedisAdapter(client: NodeRedis): Adapter {
  let wasOpen = false
  const graceful = () => (client.close ?? client.quit)!.call(client)
  const force = () => (client.destroy ?? client.disconnect)!.call(client)

  return {
    kind: 'redis',

    async close({ drain, closing }: CloseContext) {
      wasOpen = client.isOpen
      if (!wasOpen) return { closed: 0 }
      let forced = 0
      try {
        await beforeDeadline(Promise.resolve(graceful()), drain)
      } catch (error) {
        if (!(error instanceof DeadlinePassed)) throw error
        forced = 1
        await beforeDeadline(Promise.resolve(force()), closing)
      }
      return { closed: 1, forced }
    },

    async reopen({ deadline }: ReopenContext) {
      if (!wasOpen || client.isOpen) return { opened: 0 }
      await beforeDeadline(client.connect(), deadline)
      return { opened: 1 }
    },
  }
}
