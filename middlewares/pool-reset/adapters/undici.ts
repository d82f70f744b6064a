import type { EventEmitter } from 'node:events'
import type { Adapter, CloseContext } from '../adapter.js'
import { beforeDeadline, DeadlinePassed } from '../deadline.js'

/** The public surface of an undici dispatcher (Agent, Pool, Client) this adapter uses. */
interface Dispatcher extends EventEmitter {
  dispatch(options: unknown, handler: unknown): boolean
  close(): Promise<void>
  destroy(error?: Error | null): Promise<void>
  readonly closed?: boolean
  readonly destroyed?: boolean
}

/** Where Node's built-in `fetch` (and undici's `setGlobalDispatcher`) keeps its dispatcher. */
export const GLOBAL_DISPATCHER = Symbol.for('undici.globalDispatcher.1')

/** An undici dispatcher: `dispatch()`, `close()`, `destroy()` and events. */
export function isUndiciDispatcher(value: object): value is Dispatcher {
  const dispatcher = value as Partial<Dispatcher>
  return (
    typeof dispatcher.dispatch === 'function' &&
    typeof dispatcher.close === 'function' &&
    typeof dispatcher.destroy === 'function' &&
    typeof dispatcher.on === 'function'
  )
}

/** The global `fetch` function itself stands for the dispatcher behind it. */
export function isGlobalFetch(value: unknown): boolean {
  return typeof globalThis.fetch === 'function' && value === globalThis.fetch
}

/**
 * Closes `dispatchers` (undici's per-origin pools or an agent) gracefully: requests in flight
 * finish first; when the drain time runs out, they are destroyed. Counts the connections
 * closed from the `disconnect` events they emit; `forced` are those closed by the destroy.
 */
async function closeDispatchers(
  emitter: EventEmitter,
  dispatchers: Dispatcher[],
  context: CloseContext,
): Promise<{ closed: number; forced: number }> {
  let closed = 0
  let forced = 0
  let forcing = false
  const onDisconnect = () => {
    closed += 1
    if (forcing) forced += 1
  }
  emitter.on('disconnect', onDisconnect)
  try {
    const closing = Promise.all(dispatchers.map((dispatcher) => dispatcher.close()))
    try {
      await beforeDeadline(closing, context.drain)
    } catch (error) {
      if (!(error instanceof DeadlinePassed)) throw error
      forcing = true
      const destroyed = Promise.all(dispatchers.map((dispatcher) => dispatcher.destroy()))
      await beforeDeadline(destroyed, context.closing)
    }
  } finally {
    emitter.off('disconnect', onDisconnect)
  }
  return { closed, forced }
}

/**
 * undici `Agent`: closing the agent itself would end it for good, so from the moment the
 * middleware is built the adapter notes the per-origin pool behind each `connect` event.
 * Before the snapshot it closes those pools (requests in flight finish first); the agent
 * drops a pool once it has no connection left and makes a new one on the next request, so
 * the user's agent keeps working.
 *
 * Limitation: connections the agent opened before `poolReset()` was called are not seen;
 * build the middleware before the first request.
 */
export function undiciAgentAdapter(agent: Dispatcher): Adapter {
  const origins = new Set<Dispatcher>()
  agent.on('connect', (_origin: unknown, targets: Dispatcher[]) => {
    const perOrigin = targets[1]
    if (perOrigin !== undefined && perOrigin !== agent) origins.add(perOrigin)
  })

  return {
    kind: `undici.${agent.constructor.name}`,
    unusable: () =>
      agent.closed === true || agent.destroyed === true
        ? 'the dispatcher was closed or destroyed'
        : undefined,

    async close(context: CloseContext) {
      const open = [...origins].filter((pool) => pool.closed !== true && pool.destroyed !== true)
      origins.clear()
      return closeDispatchers(agent, open, context)
    },
    async reopen() {
      return { opened: 0 }
    },
  }
}

/**
 * The dispatcher behind the global `fetch`: nobody holds a reference to it, so before the
 * snapshot it is replaced by a new dispatcher of the same class and the old one is closed.
 *
 * Limitation: the new dispatcher is built without options. If you installed your own global
 * dispatcher with options, pass that agent as a resource instead of `fetch`.
 */
export function globalFetchAdapter(): Adapter {
  return {
    kind: 'fetch',
    async close(context: CloseContext) {
      const holder = globalThis as { [GLOBAL_DISPATCHER]?: Dispatcher }
      const old = holder[GLOBAL_DISPATCHER]
      if (old === undefined || !isUndiciDispatcher(old)) return { closed: 0 }
      const Dispatcher = old.constructor as new () => Dispatcher
      holder[GLOBAL_DISPATCHER] = new Dispatcher()
      return closeDispatchers(old, [old], context)
    },
    async reopen() {
      return { opened: 0 }
    },
  }
}
