import { afterEach, describe, expect, it } from 'vitest'
import type { Emulator, InvocationResult } from '../../src/emulator/index.js'
import { fixture, start } from '../emulator/helpers.js'
import {
  killMariaDb,
  killPostgres,
  killRedis,
  MYSQL_PORT,
  PG_PORT,
  REDIS_PORT,
} from './fixtures/databases.js'
import { type FrozenNetwork, startFrozenNetwork } from './fixtures/frozen-network.js'
import { type LocalHttpServer, startHttpServer } from './fixtures/http-server.js'

const cleanups: (() => Promise<unknown>)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function relayTo(port: number): Promise<FrozenNetwork> {
  const network = await startFrozenNetwork(port)
  cleanups.push(() => network.close())
  return network
}

/**
 * The frozen pause: with the runtime stopped at the snapshot point, the network freezes and
 * `kill` closes the server side of every connection still open; once the relay has seen each
 * close, the network thaws and the runtime is restored. Returns how many were killed.
 */
async function pauseAndRestore(
  emu: Emulator,
  network: FrozenNetwork,
  kill: (ports: number[]) => Promise<number>,
): Promise<number> {
  network.freeze()
  const killed = await kill(network.serverSidePorts())
  await network.whenServerClosed(killed)
  network.thaw()
  await emu.restore()
  return killed
}

async function invokeTimes(emu: Emulator, times: number): Promise<InvocationResult[]> {
  const results: InvocationResult[] = []
  for (let i = 0; i < times; i += 1) results.push(await emu.invoke({}))
  return results
}

/** `ok:<response>` or `<errorType>: <errorMessage>` per invocation, for exact assertions. */
function outcomes(results: InvocationResult[]): string[] {
  return results.map((result) =>
    result.status === 'ok'
      ? `ok:${String(result.response)}`
      : `${result.error?.errorType}: ${result.error?.errorMessage}`,
  )
}

const databases = [
  {
    label: 'PostgreSQL, pg Pool',
    handler: fixture('pool-pg', 'handler.mjs'),
    port: PG_PORT,
    kill: killPostgres,
    resource: 'pool-reset:db',
    kind: 'pg.Pool',
    atInit: 3,
    opened: 2,
    ok: 'ok:1',
    // Each killed connection fails the one invocation that picks it up.
    afterKill: [...Array(3).fill('Error: read ECONNRESET'), ...Array(17).fill('ok:1')],
  },
  {
    label: 'MariaDB, mysql2 promise pool',
    handler: fixture('pool-mysql', 'handler.mjs'),
    port: MYSQL_PORT,
    kill: killMariaDb,
    resource: 'pool-reset:db',
    kind: 'mysql2.PromisePool',
    atInit: 3,
    opened: 2,
    ok: 'ok:1',
    // Each killed connection fails the one invocation that picks it up.
    afterKill: [...Array(3).fill('Error: read ECONNRESET'), ...Array(17).fill('ok:1')],
  },
  {
    label: 'Redis, ioredis',
    handler: fixture('pool-redis', 'ioredis.mjs'),
    port: REDIS_PORT,
    kill: killRedis,
    resource: 'pool-reset:cache',
    kind: 'ioredis',
    atInit: 1,
    opened: 1,
    ok: 'ok:PONG',
    // The command on the reset connection fails; the client reconnects by itself.
    afterKill: [
      'MaxRetriesPerRequestError: Reached the max retries per request limit (which is 0). ' +
        'Refer to "maxRetriesPerRequest" option for details.',
      ...Array(19).fill('ok:PONG'),
    ],
  },
  {
    label: 'Redis, node-redis',
    handler: fixture('pool-redis', 'node-redis.mjs'),
    port: REDIS_PORT,
    kill: killRedis,
    resource: 'pool-reset:cache',
    kind: 'redis',
    atInit: 1,
    opened: 1,
    ok: 'ok:PONG',
    // Without a reconnect strategy the client stays closed after the reset.
    afterKill: ['Error: read ECONNRESET', ...Array(19).fill('Error: The client is closed')],
  },
] as const

describe.each(databases)('through the emulator: $label', (db) => {
  it('closes the init connections, and 20 invocations after the kill all succeed', async () => {
    const network = await relayTo(db.port)
    const emu = await start({ handler: db.handler, env: { DB_PORT: String(network.port) } })
    await network.whenIdle()

    const killed = await pauseAndRestore(emu, network, db.kill)

    expect(killed).toBe(0)
    expect(emu.beforeSnapshot?.hooks).toMatchObject([
      { name: db.resource, status: 'ok', details: { kind: db.kind, closed: db.atInit, forced: 0 } },
    ])
    expect(emu.afterRestore?.hooks).toMatchObject([
      { name: db.resource, status: 'ok', details: { kind: db.kind, opened: db.opened } },
    ])
    const results = await invokeTimes(emu, 20)
    expect(outcomes(results)).toEqual(Array(20).fill(db.ok))
    expect(network.resets).toBe(0)
  })

  it('control: without the middleware, the killed connections fail invocations', async () => {
    const network = await relayTo(db.port)
    const emu = await start({
      handler: db.handler,
      env: { DB_PORT: String(network.port), POOL_RESET: 'off' },
    })
    expect(network.openConnections()).toBe(db.atInit)

    const killed = await pauseAndRestore(emu, network, db.kill)

    expect(killed).toBe(db.atInit)
    expect(emu.beforeSnapshot?.hooks).toEqual([])
    const results = await invokeTimes(emu, 20)
    expect(outcomes(results)).toEqual(db.afterKill)
    expect(network.resets).toBe(db.atInit)
  })
})

describe('through the emulator: the global fetch (C11)', () => {
  async function setup(control: boolean) {
    const server: LocalHttpServer = await startHttpServer((_request, _body, response) => {
      response.end('ok')
    })
    cleanups.push(() => server.close())
    const network = await relayTo(server.port)
    const env: Record<string, string> = { API_URL: `http://127.0.0.1:${network.port}/` }
    if (control) env.POOL_RESET = 'off'
    const emu = await start({ handler: fixture('pool-fetch', 'handler.mjs'), env })
    // The pause lasts until the server has dropped every idle keep-alive socket (after 1 s).
    const idleDrop = (ports: number[]) => server.whenClosed(ports)
    return { network, emu, idleDrop }
  }

  it('closes the keep-alive connection; 20 requests after the pause succeed', async () => {
    const { network, emu, idleDrop } = await setup(false)
    await network.whenIdle()

    const dropped = await pauseAndRestore(emu, network, idleDrop)

    expect(dropped).toBe(0)
    expect(emu.beforeSnapshot?.hooks).toMatchObject([
      { name: 'pool-reset:api', status: 'ok', details: { kind: 'fetch', closed: 1, forced: 0 } },
    ])
    expect(emu.afterRestore?.hooks).toMatchObject([
      { name: 'pool-reset:api', status: 'ok', details: { kind: 'fetch', opened: 0 } },
    ])
    const results = await invokeTimes(emu, 20)
    expect(outcomes(results)).toEqual(Array(20).fill('ok:ok'))
    expect(network.resets).toBe(0)
  })

  it('control: without the middleware, the request after the pause gets ECONNRESET', async () => {
    const { network, emu, idleDrop } = await setup(true)
    expect(network.openConnections()).toBe(1)

    const dropped = await pauseAndRestore(emu, network, idleDrop)

    expect(dropped).toBe(1)
    const results = await invokeTimes(emu, 20)
    expect(outcomes(results)).toEqual([
      'Error: fetch failed: ECONNRESET',
      ...Array(19).fill('ok:ok'),
    ])
    expect(network.resets).toBe(1)
  })
})
