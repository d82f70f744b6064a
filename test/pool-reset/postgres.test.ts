import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createPgPoolApp } from './fixtures/apps.js'
import { killPostgres, PG_PORT } from './fixtures/databases.js'
import { type FrozenNetwork, startFrozenNetwork } from './fixtures/frozen-network.js'
import {
  codes,
  freshLifecycle,
  invokeRepeatedly,
  lambdaContext,
  snapshotAndRestore,
} from './fixtures/lifecycle.js'

let network: FrozenNetwork
const cleanups: (() => Promise<void>)[] = []

beforeEach(async () => {
  freshLifecycle()
  network = await startFrozenNetwork(PG_PORT)
})

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  await network.close()
  freshLifecycle()
})

describe('pg Pool', () => {
  it('closes the 3 init connections, and 20 invocations after restore all succeed', async () => {
    const app = createPgPoolApp({ port: network.port })
    cleanups.push(app.close)
    await app.init(3)
    expect(app.resource.totalCount).toBe(3)

    const cycle = await snapshotAndRestore(network, killPostgres)

    expect(cycle.before.hooks).toMatchObject([
      { name: 'pool-reset:db', status: 'ok', details: { kind: 'pg.Pool', closed: 3 } },
    ])
    expect(app.resource.totalCount).toBe(0)
    expect(cycle.killed).toBe(0)
    expect(cycle.after.hooks).toMatchObject([
      { name: 'pool-reset:db', status: 'ok', details: { kind: 'pg.Pool', opened: 0 } },
    ])
    const errors = await invokeRepeatedly(20, () => app.handler({}, lambdaContext))
    expect(errors).toEqual([])
    expect(network.resets).toBe(0)
  })

  it('control: without the middleware, each killed connection fails one invocation', async () => {
    const app = createPgPoolApp({ port: network.port, control: true })
    cleanups.push(app.close)
    await app.init(3)

    const cycle = await snapshotAndRestore(network, killPostgres, { control: true })

    expect(cycle.killed).toBe(3)
    const errors = await invokeRepeatedly(20, () => app.handler({}, lambdaContext))
    expect(codes(errors)).toEqual(['ECONNRESET', 'ECONNRESET', 'ECONNRESET'])
    expect(network.resets).toBe(3)
  })

  it('prewarm: 3 opens 3 connections in parallel after the restore', async () => {
    const app = createPgPoolApp({ port: network.port, prewarm: 3 })
    cleanups.push(app.close)
    await app.init(2)

    const cycle = await snapshotAndRestore(network, killPostgres)

    expect(cycle.before.hooks[0]?.details).toMatchObject({ closed: 2 })
    expect(cycle.after.hooks[0]?.details).toMatchObject({ kind: 'pg.Pool', opened: 3 })
    expect(app.resource.totalCount).toBe(3)
    expect(app.resource.idleCount).toBe(3)
    const errors = await invokeRepeatedly(20, () => app.handler({}, lambdaContext))
    expect(errors).toEqual([])
    expect(app.resource.totalCount).toBe(3)
  })
})
