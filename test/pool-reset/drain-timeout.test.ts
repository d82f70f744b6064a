import { Agent, request as httpRequest } from 'node:http'
import { Redis } from 'ioredis'
import mysql from 'mysql2/promise'
import pg from 'pg'
import { createClient } from 'redis'
import { Agent as UndiciAgent, request as undiciRequest } from 'undici'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import {
  PoolResetDrainTimeoutError,
  registerPoolReset,
} from '../../middlewares/pool-reset/index.js'
import { SnapStartPhaseError } from '../../src/errors.js'
import { runAfterRestore, runBeforeSnapshot } from '../../src/lifecycle.js'
import { MYSQL_PORT, PG_PORT, REDIS_PORT } from './fixtures/databases.js'
import { startHttpServer } from './fixtures/http-server.js'
import { freshLifecycle } from './fixtures/lifecycle.js'

const DRAIN_MS = 100
const cleanups: (() => Promise<unknown> | unknown)[] = []
beforeEach(() => freshLifecycle())
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  vi.restoreAllMocks()
  freshLifecycle()
})

/** A lock name no other run on these servers uses. */
const lockKey = () => Math.floor(Math.random() * 2 ** 31)

/** The phase's log lines, parsed, with `SNAPSTART_LOG_LEVEL=warn` while `run` runs. */
async function warningsDuring<T>(run: () => Promise<T>): Promise<{ value: T; lines: unknown[] }> {
  const lines: unknown[] = []
  const write = process.stdout.write.bind(process.stdout)
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk, ...rest) => {
    const text = String(chunk)
    if (text.startsWith('{"timestamp"')) {
      lines.push(JSON.parse(text))
      return true
    }
    return write(chunk, ...(rest as []))
  })
  const previous = process.env.SNAPSTART_LOG_LEVEL
  process.env.SNAPSTART_LOG_LEVEL = 'warn'
  try {
    return { value: await run(), lines }
  } finally {
    process.env.SNAPSTART_LOG_LEVEL = previous
  }
}

describe('drainTimeoutMs: what is still busy then is destroyed, and the phase succeeds', () => {
  it('pg Pool: the blocked query fails, forced: 1, one warning names the pool', async () => {
    const key = lockKey()
    const admin = new pg.Client({ host: '127.0.0.1', port: PG_PORT, user: 'postgres' })
    await admin.connect()
    cleanups.push(() => admin.end())
    await admin.query('SELECT pg_advisory_lock($1)', [key])
    const pool = new pg.Pool({ host: '127.0.0.1', port: PG_PORT, user: 'postgres', max: 5 })
    pool.on('error', () => {})
    cleanups.push(() => pool.end())
    registerPoolReset({ resources: { db: pool }, drainTimeoutMs: DRAIN_MS })
    const held = await Promise.all([pool.connect(), pool.connect(), pool.connect()])
    for (const client of held) client.release()
    const blocked = pool.query('SELECT pg_advisory_lock($1)', [key])
    const failure = blocked.catch((error: unknown) => error)

    const { value: report, lines } = await warningsDuring(() => runBeforeSnapshot())

    expect(report.status).toBe('ok')
    expect(report.hooks).toMatchObject([
      { name: 'pool-reset:db', status: 'ok', details: { kind: 'pg.Pool', closed: 3, forced: 1 } },
    ])
    expect(String(await failure)).toBe('Error: Connection terminated')
    expect(lines).toEqual([
      {
        timestamp: expect.any(String),
        level: 'WARN',
        message:
          'pool-reset: "db" destroyed 1 busy connection(s) after 100 ms before the snapshot; ' +
          'their work failed',
        type: 'snapstart.pool-reset',
        resource: 'pool-reset:db',
        forced: 1,
        drainTimeoutMs: 100,
      },
    ])
    expect(pool.totalCount).toBe(0)
    await runAfterRestore()
    expect((await pool.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }])
  })

  it('mysql2 pool: the blocked query fails and the connection is destroyed', async () => {
    const name = `pool-reset-${lockKey()}`
    const admin = await mysql.createConnection({
      host: '127.0.0.1',
      port: MYSQL_PORT,
      user: 'root',
    })
    cleanups.push(() => admin.end())
    await admin.query('SELECT GET_LOCK(?, 5)', [name])
    const pool = mysql.createPool({ host: '127.0.0.1', port: MYSQL_PORT, user: 'root' })
    cleanups.push(() => pool.end())
    registerPoolReset({ resources: { db: pool }, drainTimeoutMs: DRAIN_MS })
    const held = await Promise.all([pool.getConnection(), pool.getConnection()])
    for (const connection of held) connection.release()
    const failure = pool.query('SELECT GET_LOCK(?, 5)', [name]).catch((error: unknown) => error)

    const report = await runBeforeSnapshot()

    expect(report.hooks).toMatchObject([
      {
        name: 'pool-reset:db',
        status: 'ok',
        details: { kind: 'mysql2.PromisePool', closed: 2, forced: 1 },
      },
    ])
    expect(await failure).toMatchObject({ code: 'PROTOCOL_CONNECTION_LOST' })
    await runAfterRestore()
    const [rows] = await pool.query('SELECT 1 AS one')
    expect(rows).toEqual([{ one: 1 }])
  })

  describe('HTTP: a request the server never answers', () => {
    async function hangingServer() {
      const server = await startHttpServer((request, _body, response) => {
        if (request.url !== '/hang') response.end('ok')
      })
      cleanups.push(() => server.close())
      return server
    }

    it('http.Agent: the request fails with ECONNRESET, forced: 1', async () => {
      const server = await hangingServer()
      const agent = new Agent({ keepAlive: true })
      cleanups.push(() => agent.destroy())
      registerPoolReset({ resources: { api: agent }, drainTimeoutMs: DRAIN_MS })
      const options = { host: '127.0.0.1', port: server.port, path: '/hang', agent }
      const request = httpRequest(options)
      const failure = new Promise((resolve) => request.on('error', resolve))
      await new Promise((resolve) => request.end().once('socket', resolve))

      const report = await runBeforeSnapshot()

      expect(report.hooks).toMatchObject([
        { status: 'ok', details: { kind: 'http.Agent', closed: 1, forced: 1 } },
      ])
      expect(await failure).toMatchObject({ code: 'ECONNRESET', message: 'socket hang up' })
    })

    it('undici Agent: the request fails, forced: 1', async () => {
      const server = await hangingServer()
      const agent = new UndiciAgent()
      cleanups.push(() => agent.destroy())
      registerPoolReset({ resources: { api: agent }, drainTimeoutMs: DRAIN_MS })
      const connected = new Promise((resolve) => agent.once('connect', resolve))
      const url = `http://127.0.0.1:${server.port}/hang`
      const failure = undiciRequest(url, { dispatcher: agent }).catch((error: unknown) => error)
      await connected

      const report = await runBeforeSnapshot()

      expect(report.hooks).toMatchObject([
        { status: 'ok', details: { kind: 'undici.Agent', closed: 1, forced: 1 } },
      ])
      expect(await failure).toMatchObject({ name: 'ClientDestroyedError' })
      await runAfterRestore()
      const response = await undiciRequest(`http://127.0.0.1:${server.port}/`, {
        dispatcher: agent,
      })
      expect(await response.body.text()).toBe('ok')
    })
  })

  describe('Redis: a blocking pop on an empty list', () => {
    it('ioredis: the pop fails, forced: 1; the same client connects after restore', async () => {
      const client = new Redis({ host: '127.0.0.1', port: REDIS_PORT, maxRetriesPerRequest: 0 })
      client.on('error', () => {})
      cleanups.push(() => client.disconnect())
      registerPoolReset({ resources: { cache: client }, drainTimeoutMs: DRAIN_MS })
      await client.ping()
      const failure = client.blpop(`pool-reset-${lockKey()}`, 0).catch((error: unknown) => error)

      const report = await runBeforeSnapshot()

      expect(report.hooks).toMatchObject([
        { status: 'ok', details: { kind: 'ioredis', closed: 1, forced: 1 } },
      ])
      expect(String(await failure)).toBe('Error: Connection is closed.')
      await runAfterRestore()
      expect(await client.ping()).toBe('PONG')
    })

    it('node-redis: the pop fails, forced: 1; the same client connects after restore', async () => {
      const client = createClient({ socket: { host: '127.0.0.1', port: REDIS_PORT } })
      client.on('error', () => {})
      cleanups.push(() => (client.isOpen ? client.destroy() : undefined))
      registerPoolReset({ resources: { cache: client }, drainTimeoutMs: DRAIN_MS })
      await client.connect()
      const failure = client.blPop(`pool-reset-${lockKey()}`, 0).catch((error: unknown) => error)

      const report = await runBeforeSnapshot()

      expect(report.hooks).toMatchObject([
        { status: 'ok', details: { kind: 'redis', closed: 1, forced: 1 } },
      ])
      expect(String(await failure)).toBe('Error: Disconnects client')
      await runAfterRestore()
      expect(await client.ping()).toBe('PONG')
    })
  })
})

describe('drainTimeoutMs: what cannot be closed by force fails the phase', () => {
  it('a custom resource whose close() does not settle', async () => {
    const queue = { name: 'queue', close: () => new Promise(() => {}) }
    registerPoolReset({ resources: [queue], drainTimeoutMs: DRAIN_MS })

    const error = await runBeforeSnapshot().catch((caught: unknown) => caught)

    expect(error).toBeInstanceOf(SnapStartPhaseError)
    const cause = (error as SnapStartPhaseError).cause
    expect(cause).toBeInstanceOf(PoolResetDrainTimeoutError)
    expect((cause as Error).message).toBe(
      'pool-reset: "queue": close() had not settled after 100 ms before the snapshot, and ' +
        'cannot be closed by force. Await the work started during init, or raise ' +
        'drainTimeoutMs.',
    )
  })
})
