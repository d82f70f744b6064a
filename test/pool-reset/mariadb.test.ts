import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createMysqlApp } from './fixtures/apps.js'
import { killMariaDb, MYSQL_PORT } from './fixtures/databases.js'
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
  network = await startFrozenNetwork(MYSQL_PORT)
})

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  await network.close()
  freshLifecycle()
})

describe.each([
  ['callback', 'mysql2.Pool'],
  ['promise', 'mysql2.PromisePool'],
] as const)('mysql2 pool, %s API', (api, kind) => {
  it('closes the 3 init connections, and 20 invocations after restore all succeed', async () => {
    const app = createMysqlApp({ port: network.port, api, prewarm: 2 })
    cleanups.push(app.close)
    await app.init(3)

    const cycle = await snapshotAndRestore(network, killMariaDb)

    expect(cycle.before.hooks).toMatchObject([
      { name: 'pool-reset:db', status: 'ok', details: { kind, closed: 3 } },
    ])
    expect(cycle.killed).toBe(0)
    expect(cycle.after.hooks).toMatchObject([
      { name: 'pool-reset:db', status: 'ok', details: { kind, opened: 2 } },
    ])
    const errors = await invokeRepeatedly(20, () => app.handler({}, lambdaContext))
    expect(errors).toEqual([])
    expect(network.resets).toBe(0)
  })
})

it('control: without the middleware, a killed mysql2 connection fails an invocation', async () => {
  const app = createMysqlApp({ port: network.port, api: 'promise', control: true })
  cleanups.push(app.close)
  await app.init(3)

  const cycle = await snapshotAndRestore(network, killMariaDb, { control: true })

  expect(cycle.killed).toBe(3)
  const errors = await invokeRepeatedly(20, () => app.handler({}, lambdaContext))
  expect(codes(errors)).toEqual(['ECONNRESET', 'ECONNRESET', 'ECONNRESET'])
})
