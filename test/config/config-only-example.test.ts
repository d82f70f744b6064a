import { createHash } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { logs, start } from '../emulator/helpers.js'
import { killPostgres, PG_PORT } from '../pool-reset/fixtures/databases.js'
import { type FrozenNetwork, startFrozenNetwork } from '../pool-reset/fixtures/frozen-network.js'
import { createClock } from '../support/secrets-clock.js'
import { type FakeCredentials, startFakeCredentials } from '../support/secrets-credentials.js'
import { type FakeAws, startFakeAws } from '../support/secrets-endpoint.js'
import { isolateAwsEnv } from '../support/secrets-env.js'

const handler = fileURLToPath(new URL('../../examples/config-only/handler.mjs', import.meta.url))
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex')

let aws: FakeAws
let credentials: FakeCredentials
let network: FrozenNetwork
let restoreEnv: () => void

beforeEach(async () => {
  restoreEnv = isolateAwsEnv()
  const clock = createClock()
  credentials = await startFakeCredentials({ clock, lifetimeMs: 60 * 60_000 })
  aws = await startFakeAws({ clock, acceptKey: (key) => credentials.isValid(key) })
  network = await startFrozenNetwork(PG_PORT)
})
afterEach(async () => {
  await network.close()
  await aws.close()
  await credentials.close()
  restoreEnv()
})

describe('examples/config-only through the emulator', () => {
  it('survives a pause that kills its connections and rotates its secret', async () => {
    aws.putSecret('prod/api-key', 'sk-v1-example')

    const emulator = await start({
      handler,
      env: {
        DATABASE_URL: `postgres://postgres@127.0.0.1:${network.port}/test`,
        SNAPSTART_RNG_RESEED: 'true',
        SNAPSTART_SECRETS: '{"apiKey":{"source":"secretsManager","secretId":"prod/api-key"}}',
        AWS_ENDPOINT_URL_SECRETS_MANAGER: aws.url,
        AWS_CONTAINER_CREDENTIALS_FULL_URI: credentials.url,
        AWS_CONTAINER_AUTHORIZATION_TOKEN: credentials.token,
        AWS_EC2_METADATA_DISABLED: 'true',
      },
    })

    // The pause: the network is frozen, the server ends every connection of the function
    // (none are left: the pool closed them before the snapshot), the secret is rotated.
    network.freeze()
    await network.whenIdle()
    const killed = await killPostgres(network.serverSidePorts())
    aws.putSecret('prod/api-key', 'sk-v2-example')
    network.thaw()

    const restored = await emulator.restore()
    const results = []
    for (let n = 0; n < 10; n++) results.push(await emulator.invoke({ n }))

    expect(emulator.beforeSnapshot?.hooks).toMatchObject([
      { name: 'pool-reset:db', status: 'ok', details: { kind: 'pg.Pool', closed: 2 } },
      { name: 'secret-refresh(apiKey)', status: 'ok' },
    ])
    expect(killed).toBe(0)
    expect(restored.report?.hooks).toMatchObject([
      { name: 'rng-reseed', status: 'ok', details: { mathRandom: 'reseeded' } },
      { name: 'secret-refresh(apiKey)', status: 'ok', details: { fetched: 1 } },
      { name: 'pool-reset:db', status: 'ok', details: { kind: 'pg.Pool' } },
    ])
    expect(results.map((result) => result.status)).toEqual(Array(10).fill('ok'))
    const responses = results.map((result) => result.response as Record<string, unknown>)
    expect(responses.map((response) => response.next)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
    expect(new Set(responses.map((response) => response.apiKeySha256))).toEqual(
      new Set([sha256('sk-v2-example')]),
    )
    expect(new Set(responses.map((response) => response.random)).size).toBe(10)
    expect(network.resets).toBe(0)
    expect(logs.map((entry) => entry.line).join('\n')).not.toMatch(/sk-v[12]-example/)
  })
})
