import middy from '@middy/core'
import { Redis } from 'ioredis'
import { createClient } from 'redis'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { poolReset } from '../../middlewares/pool-reset/index.js'
import { killRedis, REDIS_PORT } from './fixtures/databases.js'
import { type FrozenNetwork, startFrozenNetwork } from './fixtures/frozen-network.js'
import {
  codes,
  freshLifecycle,
  invokeRepeatedly,
  lambdaContext,
  snapshotAndRestore,
} from './fixtures/lifecycle.js'

let network: FrozenNetwork
const cleanups: (() => Promise<unknown> | unknown)[] = []

beforeEach(async () => {
  freshLifecycle()
  network = await startFrozenNetwork(REDIS_PORT)
})

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  await network.close()
  freshLifecycle()
})

function ioredisClient(port: number) {
  const client = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 0 })
  client.on('error', () => {})
  cleanups.push(() => client.disconnect())
  return client
}

function nodeRedisClient(port: number) {
  const client = createClient({
    socket: { host: '127.0.0.1', port, reconnectStrategy: false },
  })
  client.on('error', () => {})
  cleanups.push(() => (client.isOpen ? client.destroy() : undefined))
  return client
}

describe('ioredis', () => {
  it('quits before the snapshot and reconnects the same client after restore', async () => {
    const client = ioredisClient(network.port)
    await client.connect()
    const handler = middy(() => client.ping()).use(poolReset({ resources: { cache: client } }))

    const cycle = await snapshotAndRestore(network, killRedis)

    expect(cycle.before.hooks).toMatchObject([
      { name: 'pool-reset:cache', status: 'ok', details: { kind: 'ioredis', closed: 1 } },
    ])
    expect(cycle.killed).toBe(0)
    expect(cycle.after.hooks[0]?.details).toMatchObject({ kind: 'ioredis', opened: 1 })
    expect(client.status).toBe('ready')
    const errors = await invokeRepeatedly(20, () => handler({}, lambdaContext))
    expect(errors).toEqual([])
    expect(network.resets).toBe(0)
  })

  it('control: without the middleware, the reset connection fails an invocation', async () => {
    const client = ioredisClient(network.port)
    await client.connect()
    const handler = middy(() => client.ping())

    const cycle = await snapshotAndRestore(network, killRedis, { control: true })

    expect(cycle.killed).toBe(1)
    const errors = await invokeRepeatedly(20, () => handler({}, lambdaContext))
    expect(errors.map((error) => (error as Error).name)).toEqual(['MaxRetriesPerRequestError'])
    expect(network.resets).toBe(1)
  })
})

describe('redis (node-redis)', () => {
  it('closes before the snapshot and connects the same client after restore', async () => {
    const client = nodeRedisClient(network.port)
    await client.connect()
    const handler = middy(() => client.ping()).use(poolReset({ resources: { cache: client } }))

    const cycle = await snapshotAndRestore(network, killRedis)

    expect(cycle.before.hooks).toMatchObject([
      { name: 'pool-reset:cache', status: 'ok', details: { kind: 'redis', closed: 1 } },
    ])
    expect(cycle.killed).toBe(0)
    expect(cycle.after.hooks[0]?.details).toMatchObject({ kind: 'redis', opened: 1 })
    const errors = await invokeRepeatedly(20, () => handler({}, lambdaContext))
    expect(errors).toEqual([])
    expect(network.resets).toBe(0)
  })

  it('control: without the middleware, the killed connection fails invocations', async () => {
    const client = nodeRedisClient(network.port)
    await client.connect()
    const handler = middy(() => client.ping())

    const cycle = await snapshotAndRestore(network, killRedis, { control: true })

    expect(cycle.killed).toBe(1)
    const errors = await invokeRepeatedly(20, () => handler({}, lambdaContext))
    expect(codes(errors)[0]).toBe('ECONNRESET')
    expect(errors.slice(1).map(String)).toEqual(Array(19).fill('Error: The client is closed'))
    expect(network.resets).toBe(1)
  })
})
