import { once } from 'node:events'
import { createServer } from 'node:net'
import middy from '@middy/core'
import { MongoClient } from 'mongodb'
import pg from 'pg'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  currentPgClient,
  PoolResetDrainTimeoutError,
  PoolResetReopenError,
  poolReset,
  registerPoolReset,
} from '../../middlewares/pool-reset/index.js'
import { SnapStartPhaseError } from '../../src/errors.js'
import { runAfterRestore, runBeforeSnapshot } from '../../src/lifecycle.js'
import { getAfterRestore, getBeforeSnapshot } from '../../src/registry.js'
import { killPostgres, PG_PORT } from './fixtures/databases.js'
import { type FrozenNetwork, startFrozenNetwork } from './fixtures/frozen-network.js'
import { freshLifecycle, lambdaContext, snapshotAndRestore } from './fixtures/lifecycle.js'

const cleanups: (() => Promise<unknown> | unknown)[] = []
beforeEach(() => freshLifecycle())
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  freshLifecycle()
})

const ACCEPTED =
  'expected a pg Pool or Client, a mysql2 pool (callback or promise API), an ioredis client, ' +
  'a redis (node-redis) client, an http.Agent or https.Agent, an undici Agent, the global ' +
  'fetch function, an AWS SDK v3 client, a mongodb MongoClient, or { name, close(), reopen?() }'

function pgPool(port: number) {
  const pool = new pg.Pool({ host: '127.0.0.1', port, user: 'postgres', database: 'test' })
  pool.on('error', () => {})
  return pool
}

describe('bad input, at build time', () => {
  it('rejects an unknown object, naming its index and constructor', () => {
    class Cache {}
    expect(() => poolReset({ resources: [pgPool(PG_PORT), new Cache()] })).toThrow(
      new TypeError(
        'poolReset: resources[1] (an instance of Cache) is not a resource this middleware ' +
          `knows; ${ACCEPTED}`,
      ),
    )
  })

  it('rejects a key of a resources object holding a number', () => {
    expect(() => poolReset({ resources: { db: 42 } })).toThrow(
      new TypeError(`poolReset: resources.db is number; ${ACCEPTED}`),
    )
  })

  it('names the field a resource of your own gets wrong, and registers nothing', () => {
    const shape = '; a resource of your own is { name, close(), reopen?() }'
    expect(() => poolReset({ resources: [{ name: 'c', reopen() {} }] })).toThrow(
      'poolReset: resources[0].close must be a function that closes every connection before ' +
        `the snapshot${shape}`,
    )
    expect(() => poolReset({ resources: [{ name: 'x', close() {}, reopen: 5 }] })).toThrow(
      'poolReset: resources[0].reopen must be a function that opens again after the restore, ' +
        `or left out${shape}`,
    )
    expect(() => poolReset({ resources: { cache: { name: ' ', close() {} } } })).toThrow(
      'poolReset: resources.cache.name must be a non-empty string: the name shown in phase ' +
        `reports${shape}`,
    )
    const resource = () => ({ name: 'a', close() {} })
    expect(() => poolReset({ resources: [resource(), resource()] })).toThrow(
      'poolReset: resources[0] and resources[1] are both named "a"; give each resource its own ' +
        'name, as the phase reports show them by name',
    )
    expect(getBeforeSnapshot()).toEqual([])
  })

  it('rejects a pool the user already ended', async () => {
    const pool = pgPool(PG_PORT)
    await pool.end()
    expect(() => poolReset({ resources: { db: pool } })).toThrow(
      new TypeError(
        'poolReset: resources.db (pg.Pool) cannot be managed: the pool was ended ' +
          '(pool.end()). Pass it before ending it, or leave it out.',
      ),
    )
  })

  it('rejects unknown options and a negative prewarm', () => {
    const pool = pgPool(PG_PORT)
    cleanups.push(() => pool.end())
    expect(() => poolReset({ resources: [pool], retries: 3 } as never)).toThrow(
      new TypeError(
        'poolReset: unknown option "retries"; known options: resources, prewarm, drainTimeoutMs',
      ),
    )
    expect(() => poolReset({ resources: [pool], prewarm: -1 })).toThrow(
      new TypeError('poolReset: "prewarm" must be a whole number >= 0, got -1'),
    )
  })

  it.each([
    ['longer than Node timers keep', 3e9],
    ['zero', 0],
    ['not a number', '100'],
  ])('rejects a drainTimeoutMs %s, naming the range', (_label, drainTimeoutMs) => {
    const pool = pgPool(PG_PORT)
    cleanups.push(() => pool.end())
    expect(() =>
      poolReset({ resources: [pool], drainTimeoutMs: drainTimeoutMs as number }),
    ).toThrow(
      new TypeError(
        'poolReset: "drainTimeoutMs" must be a number of milliseconds from 1 to 2147483647',
      ),
    )
    expect(getBeforeSnapshot()).toEqual([])
  })
})

describe('error messages', () => {
  it('PoolResetReopenError names the resource once, as given, and keeps its report name', () => {
    const cause = new Error('connect ECONNREFUSED 127.0.0.1:5432')

    const error = new PoolResetReopenError('pool-reset:pg', 312.4, cause)

    expect(error.message).toBe(
      'pool-reset: "pg" could not reopen after the restore (Error: connect ECONNREFUSED ' +
        '127.0.0.1:5432) after 312 ms. Check that the server is reachable from the restored ' +
        'environment.',
    )
    expect(error.resource).toBe('pool-reset:pg')
    expect(error.cause).toBe(cause)
  })

  it('PoolResetDrainTimeoutError names the resource once', () => {
    const error = new PoolResetDrainTimeoutError('pool-reset:pg.Pool#1', 2, 100)

    expect(error.message).toBe(
      'pool-reset: "pg.Pool#1": 2 connection(s) were still busy after 100 ms before the ' +
        'snapshot, and cannot be closed by force. Await the work started during init, or raise ' +
        'drainTimeoutMs.',
    )
    expect(error.resource).toBe('pool-reset:pg.Pool#1')
  })
})

describe('registration', () => {
  it('building the middleware twice with the same pool registers it once', () => {
    const pool = pgPool(PG_PORT)
    cleanups.push(() => pool.end())
    middy(() => 1).use(poolReset({ resources: { db: pool } }))
    middy(() => 2).use(poolReset({ resources: { db: pool } }))
    expect(getBeforeSnapshot().map((hook) => hook.name)).toEqual(['pool-reset:db'])
    expect(getAfterRestore().map((hook) => hook.name)).toEqual(['pool-reset:db'])
  })

  it('registerPoolReset returns the names and unregisters them', () => {
    const custom = { name: 'queue', close: () => 2, reopen: () => 2 }
    const handle = registerPoolReset({ resources: [custom] })
    expect(handle.names).toEqual(['pool-reset:queue'])
    handle.unregister()
    expect(getBeforeSnapshot()).toEqual([])
  })

  it('a pool ended by the user after registration is reported and left alone', async () => {
    const pool = pgPool(PG_PORT)
    registerPoolReset({ resources: { db: pool }, prewarm: 1 })
    await pool.end()
    const before = await runBeforeSnapshot()
    const after = await runAfterRestore()
    expect(before.hooks[0]?.details).toMatchObject({ closed: 0, endedByUser: true })
    expect(after.hooks[0]?.details).toMatchObject({ opened: 0, endedByUser: true })
  })
})

describe('a server that stays down after the restore', () => {
  it('fails the after-restore phase naming the pool, when the port refuses', async () => {
    const spare = createServer().listen(0, '127.0.0.1')
    await once(spare, 'listening')
    const port = (spare.address() as { port: number }).port
    spare.close()
    await once(spare, 'close')
    const pool = pgPool(port)
    cleanups.push(() => pool.end())
    registerPoolReset({ resources: { db: pool }, prewarm: 1 })

    await runBeforeSnapshot()
    const error = await runAfterRestore({ budgetMs: 2_000 }).catch((caught: unknown) => caught)

    expect(error).toBeInstanceOf(SnapStartPhaseError)
    const phase = error as SnapStartPhaseError
    expect(phase.hook).toBe('pool-reset:db')
    expect(phase.cause).toBeInstanceOf(PoolResetReopenError)
    expect((phase.cause as PoolResetReopenError).resource).toBe('pool-reset:db')
    expect(((phase.cause as Error).cause as { code?: string }).code).toBe('ECONNREFUSED')
    expect(phase.report.durationMs).toBeLessThan(2_000)
  })

  it('fails within its budget, naming the pool, when the server never answers', async () => {
    const silent = createServer(() => {}).listen(0, '127.0.0.1')
    await once(silent, 'listening')
    cleanups.push(() => silent.close())
    const sockets = new Set<import('node:net').Socket>()
    silent.on('connection', (socket) => sockets.add(socket))
    cleanups.push(() => {
      for (const socket of sockets) socket.destroy()
    })
    const pool = pgPool((silent.address() as { port: number }).port)
    cleanups.unshift(() => pool.end())
    registerPoolReset({ resources: { db: pool }, prewarm: 1 })

    await runBeforeSnapshot()
    const error = await runAfterRestore({ budgetMs: 500 }).catch((caught: unknown) => caught)

    const phase = error as SnapStartPhaseError
    expect(phase.name).toBe('SnapStartPhaseError')
    expect(phase.hook).toBe('pool-reset:db')
    expect(phase.cause).toBeInstanceOf(PoolResetReopenError)
    expect((phase.cause as Error).message).toMatch(
      new RegExp(
        '^pool-reset: "db" could not reopen after the restore \\(it did not answer in time\\) ' +
          'after \\d+ ms\\. Check that the server is reachable from the restored environment\\.$',
      ),
    )
    expect(phase.report.durationMs).toBeGreaterThanOrEqual(400)
    expect(phase.report.durationMs).toBeLessThan(500)
  })
})

describe('pg Client (cannot connect twice)', () => {
  let network: FrozenNetwork
  beforeEach(async () => {
    network = await startFrozenNetwork(PG_PORT)
    cleanups.push(() => network.close())
  })

  it('after restore currentPgClient(client) returns a connected replacement', async () => {
    const client = new pg.Client({
      host: '127.0.0.1',
      port: network.port,
      user: 'postgres',
      database: 'test',
    })
    await client.connect()
    const handler = middy(async () => {
      const result = await currentPgClient(client).query('SELECT 1 AS one')
      return result.rows[0].one
    }).use(poolReset({ resources: { db: client } }))
    cleanups.push(() => currentPgClient(client).end())

    const cycle = await snapshotAndRestore(network, killPostgres)

    expect(cycle.before.hooks[0]?.details).toMatchObject({ kind: 'pg.Client', closed: 1 })
    expect(cycle.after.hooks[0]?.details).toMatchObject({ kind: 'pg.Client', opened: 1 })
    expect(currentPgClient(client)).not.toBe(client)
    const results = []
    for (let i = 0; i < 20; i += 1) results.push(await handler({}, lambdaContext))
    expect(results).toEqual(Array(20).fill(1))
  })
})

describe('recognition only: no MongoDB server here', () => {
  it('recognises a mongodb MongoClient without connecting', () => {
    const client = new MongoClient('mongodb://127.0.0.1:1/test', { serverSelectionTimeoutMS: 1 })
    const handle = registerPoolReset({ resources: [client] })
    expect(handle.names[0]).toMatch(/^pool-reset:mongodb\.MongoClient#\d+$/)
  })
})
