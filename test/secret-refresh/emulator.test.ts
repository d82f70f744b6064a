import { fileURLToPath } from 'node:url'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type Emulator, startEmulator } from '../../src/emulator/index.js'
import { createClock } from '../support/secrets-clock.js'
import { type FakeCredentials, startFakeCredentials } from '../support/secrets-credentials.js'
import { type FakeAws, startFakeAws } from '../support/secrets-endpoint.js'
import { isolateAwsEnv } from '../support/secrets-env.js'

const handler = fileURLToPath(new URL('./fixtures/handler.mjs', import.meta.url))

let aws: FakeAws
let credentials: FakeCredentials
let emulator: Emulator | undefined
let restoreEnv: () => void
const lines: string[] = []

beforeEach(async () => {
  restoreEnv = isolateAwsEnv()
  const clock = createClock()
  credentials = await startFakeCredentials({ clock, lifetimeMs: 60 * 60_000 })
  aws = await startFakeAws({ clock, acceptKey: (key) => credentials.isValid(key) })
})
afterEach(async () => {
  await emulator?.close()
  await aws.close()
  await credentials.close()
  restoreEnv()
  for (const value of ['sk-v1-emu-31', 'sk-v2-emu-42']) {
    expect(lines.join('\n')).not.toContain(value)
  }
})

describe('through the emulator', () => {
  it('a secret rotated while frozen is what the first invocation sees', async () => {
    aws.putSecret('prod/api', 'sk-v1-emu-31')

    emulator = await startEmulator({
      handler,
      env: {
        FAKE_AWS_ENDPOINT: aws.url,
        AWS_CONTAINER_CREDENTIALS_FULL_URI: credentials.url,
        AWS_CONTAINER_AUTHORIZATION_TOKEN: credentials.token,
        AWS_EC2_METADATA_DISABLED: 'true',
      },
      onLog: (line) => lines.push(line),
    })
    const beforeFrozen = aws.requests.length
    aws.putSecret('prod/api', 'sk-v2-emu-42')
    const restored = await emulator.restore()
    const first = await emulator.invoke({})

    expect(beforeFrozen).toBe(1)
    expect(emulator.beforeSnapshot?.hooks).toEqual([
      expect.objectContaining({ name: 'secret-refresh(apiKey)', status: 'ok' }),
    ])
    expect(restored.report?.hooks).toEqual([
      expect.objectContaining({
        name: 'secret-refresh(apiKey)',
        status: 'ok',
        details: { secrets: 1, fetched: 1, keptPrevious: 0, refresh: 'eager' },
      }),
    ])
    expect(first.error).toBeUndefined()
    expect(first).toMatchObject({ status: 'ok', response: { apiKey: 'sk-v2-emu-42' } })
    expect(aws.requests.map((request) => [request.accessKeyId, request.status])).toEqual([
      ['ASIATEST00000001', 200],
      ['ASIATEST00000002', 200],
    ])
    expect(credentials.fetches()).toBe(2)
  })
})
