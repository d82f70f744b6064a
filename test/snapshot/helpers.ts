import net from 'node:net'
import { fileURLToPath } from 'node:url'
import {
  type BuildSnapshotOptions,
  type BuiltSnapshot,
  buildSnapshot,
  removeSnapshot,
} from '../../src/snapshot/index.js'

/** The absolute path of a fixture under test/fixtures. */
export function fixture(path: string): string {
  return fileURLToPath(new URL(`../fixtures/${path}`, import.meta.url))
}

const builds: BuiltSnapshot[] = []

/** Builds a snapshot quietly and remembers it for `removeBuilds`. */
export async function build(options: BuildSnapshotOptions): Promise<BuiltSnapshot> {
  const built = await buildSnapshot({ env: { SNAPSTART_LOG_LEVEL: 'silent' }, ...options })
  builds.push(built)
  return built
}

/** Removes every snapshot `build` made, with `removeSnapshot`. */
export function removeBuilds(): void {
  for (const built of builds.splice(0)) removeSnapshot(built)
}

/** The rejection of `promise`, failing when it resolves. */
export async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise
  } catch (error) {
    return error as Error
  }
  throw new Error('expected a rejection, got a result')
}

/** A TCP server on 127.0.0.1 that greets each connection with `connection <n>`. */
export interface PoolServer {
  port: number
  /** Connections accepted so far. */
  accepted(): number
  close(): Promise<void>
}

/** Starts a `PoolServer`. */
export async function startPoolServer(): Promise<PoolServer> {
  const sockets = new Set<net.Socket>()
  let accepted = 0
  const server = net.createServer((socket) => {
    accepted += 1
    sockets.add(socket)
    socket.on('error', () => {})
    socket.on('close', () => sockets.delete(socket))
    socket.write(`connection ${accepted}\n`)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as net.AddressInfo
  return {
    port,
    accepted: () => accepted,
    close() {
      for (const socket of sockets) socket.destroy()
      return new Promise((resolve) => server.close(() => resolve()))
    },
  }
}
