import type { Agent } from 'node:http'
import type { Socket } from 'node:net'
import type { Adapter, CloseContext } from '../adapter.js'
import { beforeDeadline, DeadlinePassed } from '../deadline.js'

type SocketLists = NodeJS.ReadOnlyDict<Socket[]>

/**
 * `http.Agent`, reached only when a resource is checked: importing this package must not
 * load `node:http`, which a startup snapshot cannot hold on Node 20.
 */
function agentClass(): typeof Agent {
  return (process.getBuiltinModule('node:http') as typeof import('node:http')).Agent
}

/**
 * A Node `http.Agent` or `https.Agent` (a subclass). The shape is checked first, so a value
 * that is no agent never loads `node:http`: a startup snapshot whose init checks a custom
 * resource or a database pool must not hold it.
 */
export function isHttpAgent(value: object): value is Agent {
  return looksLikeAgent(value) && value instanceof agentClass()
}

function looksLikeAgent(value: unknown): boolean {
  const agent = value as Partial<Record<'getName' | 'sockets' | 'freeSockets', unknown>>
  return (
    typeof agent?.getName === 'function' &&
    typeof agent.sockets === 'object' &&
    typeof agent.freeSockets === 'object'
  )
}

function sockets(lists: SocketLists | undefined): Socket[] {
  return Object.values(lists ?? {}).flatMap((list) => list ?? [])
}

/** Resolves when `socket` goes back to its agent's free list, or closes. */
function settled(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    if (socket.closed) return resolve()
    socket.once('free', () => resolve())
    socket.once('close', () => resolve())
  })
}

/**
 * Waits until no socket of `agents` carries a request, then destroys every socket and
 * resolves once each has closed, so the agents hold none. Sockets still carrying a request
 * when the drain time runs out are destroyed too (the request fails). Returns how many
 * sockets were closed, and how many of them were still busy.
 */
export async function closeAgents(
  agents: Agent[],
  context: CloseContext,
): Promise<{ closed: number; forced: number }> {
  const inUse = () => agents.flatMap((agent) => sockets(agent.sockets))
  let forced = 0
  try {
    for (let busy = inUse(); busy.length > 0; busy = inUse()) {
      await beforeDeadline(Promise.all(busy.map(settled)), context.drain)
    }
  } catch (error) {
    if (!(error instanceof DeadlinePassed)) throw error
    forced = inUse().filter((socket) => !socket.closed).length
  }

  const all = agents.flatMap((agent) => [...sockets(agent.sockets), ...sockets(agent.freeSockets)])
  const closed = all.map(
    (socket) =>
      new Promise<void>((resolve) => {
        if (socket.closed) resolve()
        else socket.once('close', () => resolve())
      }),
  )
  for (const agent of agents) agent.destroy()
  await beforeDeadline(Promise.all(closed), context.closing)
  return { closed: all.length, forced }
}

/**
 * Node `http.Agent` / `https.Agent`: before the snapshot, wait for requests in flight (until
 * the drain time runs out), then `destroy()` every socket. The agent keeps working and opens
 * new sockets on the next request. `prewarm` does not apply: an agent does not know where to
 * connect in advance.
 */
export function httpAgentAdapter(agent: Agent): Adapter {
  return {
    kind: agent.constructor.name === 'Agent' ? 'http.Agent' : agent.constructor.name,
    async close(context: CloseContext) {
      return closeAgents([agent], context)
    },
    async reopen() {
      return { opened: 0 }
    },
  }
}

/** The public surface of an AWS SDK v3 client this adapter uses. */
interface AwsClient {
  send(command: unknown): Promise<unknown>
  destroy(): void
  readonly middlewareStack: object
  readonly config: { requestHandler?: unknown }
}

/** An AWS SDK v3 client: `send()`, `destroy()`, a middleware stack and a request handler. */
export function isAwsSdkClient(value: object): value is AwsClient {
  const client = value as Partial<AwsClient>
  return (
    typeof client.send === 'function' &&
    typeof client.destroy === 'function' &&
    typeof client.middlewareStack === 'object' &&
    typeof client.config === 'object' &&
    client.config !== null &&
    'requestHandler' in client.config
  )
}

/** The agents of the client's Node request handler, once it has made a request. */
function handlerAgents(client: AwsClient): Agent[] {
  const handler = client.config.requestHandler as
    | { config?: { httpAgent?: unknown; httpsAgent?: unknown } }
    | undefined
  const config = handler?.config
  return [config?.httpAgent, config?.httpsAgent].filter(
    (agent): agent is Agent => typeof agent === 'object' && agent !== null && isHttpAgent(agent),
  )
}

/**
 * AWS SDK v3 client: before the snapshot, wait for requests in flight, then `destroy()` the
 * client, which destroys its request handler's sockets. The client stays usable and opens
 * new sockets on the next call.
 */
export function awsSdkAdapter(client: AwsClient): Adapter {
  return {
    kind: `aws-sdk:${client.constructor.name}`,
    async close(context: CloseContext) {
      const agents = handlerAgents(client)
      const counts = await closeAgents(agents, context)
      client.destroy()
      return counts
    },
    async reopen() {
      return { opened: 0 }
    },
  }
}
