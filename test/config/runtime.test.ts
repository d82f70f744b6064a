import { createHash } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { EmulatorError, EmulatorOptions } from '../../src/emulator/index.js'
import { logs, start } from '../emulator/helpers.js'
import { createClock } from '../support/secrets-clock.js'
import { type FakeCredentials, startFakeCredentials } from '../support/secrets-credentials.js'
import { type FakeAws, startFakeAws } from '../support/secrets-endpoint.js'
import { isolateAwsEnv } from '../support/secrets-env.js'

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url))
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex')
const hookNames = (report: { hooks: { name: string }[] } | undefined) =>
  report?.hooks.map((hook) => hook.name)

async function initFailure(options: EmulatorOptions): Promise<EmulatorError> {
  try {
    await start(options)
  } catch (error) {
    return error as EmulatorError
  }
  throw new Error('startEmulator resolved, but init was expected to fail')
}

describe('a malformed variable fails init with Runtime.InvalidConfiguration', () => {
  it.each([
    ['SNAPSTART_RNG_RESEED', 'on', 'SNAPSTART_RNG_RESEED: expected true or false, got "on"'],
    [
      'SNAPSTART_RESTORE_BUDGET_MS',
      '10s',
      'SNAPSTART_RESTORE_BUDGET_MS: expected a whole number of milliseconds from 1 to ' +
        '900000, got "10s"',
    ],
    [
      'SNAPSTART_LOG_LEVEL',
      'loud',
      'SNAPSTART_LOG_LEVEL: expected one of debug, info, warn, error, silent, got "loud"',
    ],
  ])('%s=%s, before the handler loads', async (variable, value, message) => {
    const failure = await initFailure({ handler: fixture('plain.mjs'), env: { [variable]: value } })

    expect(failure).toMatchObject({
      errorType: 'Runtime.InvalidConfiguration',
      errorMessage: message,
      exitCode: 129,
    })
    expect(logs.some((entry) => entry.line.includes('plain handler loaded'))).toBe(false)
  })

  it('SNAPSTART_SECRETS holding a value: named, never repeated', async () => {
    const failure = await initFailure({
      handler: fixture('plain.mjs'),
      env: { SNAPSTART_SECRETS: '{"apiKey":"sk-live-0123456789"}' },
    })

    expect(failure).toMatchObject({
      errorType: 'Runtime.InvalidConfiguration',
      errorMessage:
        'SNAPSTART_SECRETS: "apiKey" must be an object such as {"source":"ssm","name":"/app/x"}',
    })
    expect(logs.map((entry) => entry.line).join('\n')).not.toContain('sk-live-0123456789')
  })
})

describe('the environment configures a handler that imports nothing', () => {
  it('reseed, pool reset of the global agents, metrics and the restore budget', async () => {
    const emulator = await start({
      handler: fixture('plain.mjs'),
      env: {
        SNAPSTART_RNG_RESEED: 'true',
        SNAPSTART_POOL_RESET: 'true',
        SNAPSTART_METRICS: 'ConfigTest',
        SNAPSTART_RESTORE_BUDGET_MS: '4321',
      },
    })
    const restored = await emulator.restore()
    const result = await emulator.invoke({ n: 1 })

    expect(hookNames(emulator.beforeSnapshot)).toEqual([
      'pool-reset:https.globalAgent',
      'pool-reset:http.globalAgent',
      'pool-reset:fetch',
    ])
    expect(hookNames(restored.report)).toEqual([
      'rng-reseed',
      'pool-reset:fetch',
      'pool-reset:http.globalAgent',
      'pool-reset:https.globalAgent',
    ])
    expect(restored.report?.budgetMs).toBe(4321)
    expect(restored.report?.hooks[0]?.details).toMatchObject({ mathRandom: 'reseeded' })
    expect(result).toMatchObject({ status: 'ok', response: { event: { n: 1 }, apiKey: null } })
    const emf = logs
      .map((entry) => entry.line)
      .filter((line) => line.includes('"CloudWatchMetrics"'))
      .map((line) => JSON.parse(line))
    expect(emf.map((line) => [line._aws.CloudWatchMetrics[0].Namespace, line.phase])).toEqual([
      ['ConfigTest', 'beforeSnapshot'],
      ['ConfigTest', 'afterRestore'],
    ])
  })

  it('without variables: no hooks and the default 9 000 ms budget', async () => {
    const emulator = await start({ handler: fixture('plain.mjs') })
    const restored = await emulator.restore()
    expect(restored.report).toMatchObject({ hooks: [], budgetMs: 9000 })
  })

  it('options in code win: budget, reseed off, and secrets', async () => {
    const emulator = await start({
      handler: fixture('code-wins.mjs'),
      env: {
        SNAPSTART_RNG_RESEED: 'true',
        SNAPSTART_RESTORE_BUDGET_MS: '4321',
        SNAPSTART_SECRETS: '{"apiKey":{"source":"ssm","name":"/never/fetched"}}',
        AWS_ENDPOINT_URL_SSM: 'http://127.0.0.1:9',
        AWS_EC2_METADATA_DISABLED: 'true',
      },
    })
    const restored = await emulator.restore()
    const result = await emulator.invoke({})

    expect(restored.report?.budgetMs).toBe(1234)
    expect(hookNames(restored.report)).toEqual(['secret-refresh(apiKey)'])
    expect(result.response).toEqual({ restored: true, apiKey: 'from-code' })
  })
})

describe('SNAPSTART_SECRETS: values on the context, fresh after a rotation while frozen', () => {
  let aws: FakeAws
  let credentials: FakeCredentials
  let restoreEnv: () => void

  beforeEach(async () => {
    restoreEnv = isolateAwsEnv()
    const clock = createClock()
    credentials = await startFakeCredentials({ clock, lifetimeMs: 60 * 60_000 })
    aws = await startFakeAws({ clock, acceptKey: (key) => credentials.isValid(key) })
  })
  afterEach(async () => {
    await aws.close()
    await credentials.close()
    restoreEnv()
    expect(logs.map((entry) => entry.line).join('\n')).not.toMatch(/sk-v[12]-config/)
  })

  it.each([
    ['an async handler', 'plain.mjs'],
    ['a callback handler', 'callback.cjs'],
  ])('%s', async (_label, file) => {
    aws.putSecret('prod/api', 'sk-v1-config')
    const emulator = await start({
      handler: fixture(file),
      env: {
        SNAPSTART_SECRETS: '{"apiKey":{"source":"secretsManager","secretId":"prod/api"}}',
        AWS_ENDPOINT_URL_SECRETS_MANAGER: aws.url,
        AWS_CONTAINER_CREDENTIALS_FULL_URI: credentials.url,
        AWS_CONTAINER_AUTHORIZATION_TOKEN: credentials.token,
        AWS_EC2_METADATA_DISABLED: 'true',
      },
    })
    aws.putSecret('prod/api', 'sk-v2-config')
    const restored = await emulator.restore()
    const results = [await emulator.invoke({}), await emulator.invoke({})]

    expect(restored.report?.hooks).toEqual([
      expect.objectContaining({
        name: 'secret-refresh(apiKey)',
        status: 'ok',
        details: { secrets: 1, fetched: 1, keptPrevious: 0, refresh: 'eager' },
      }),
    ])
    expect(results.map((result) => result.response)).toEqual([
      expect.objectContaining({ apiKey: sha256('sk-v2-config') }),
      expect.objectContaining({ apiKey: sha256('sk-v2-config') }),
    ])
    expect(aws.requests.map((request) => request.status)).toEqual([200, 200])
  })
})
