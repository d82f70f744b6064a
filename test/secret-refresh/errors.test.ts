import middy from '@middy/core'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  SecretParseError,
  SecretRefreshError,
  SecretTimeoutError,
  secretRefresh,
} from '../../middlewares/secret-refresh/index.js'
import { OptionError } from '../../src/errors.js'
import {
  getAfterRestore,
  runAfterRestore,
  runBeforeSnapshot,
  SnapStartPhaseError,
} from '../../src/index.js'
import { watchUnhandled } from '../core/helpers.js'
import { type Harness, lambdaContext, startHarness } from '../support/secrets-harness.js'

const VALUES = ['not-json-s3cr3t', 'timeout-v1-66']
const one = (): number => 1

let h: Harness

beforeEach(async () => {
  h = await startHarness()
})
afterEach(async () => {
  const output = h.output()
  const reports = JSON.stringify(h.reports)
  await h.stop()
  for (const value of VALUES) {
    expect(output).not.toContain(value)
    expect(reports).not.toContain(value)
  }
})

describe('bad options fail when the middleware is built, naming the entry', () => {
  it.each([
    [
      'an unknown source kind',
      { vault: { source: 'vault', path: 'kv/app' } },
      'secretRefresh: secret "vault": unknown source kind "vault"; expected source: ' +
        '"secretsManager", "ssm", "function"',
    ],
    [
      'a missing source kind',
      { apiKey: { secretId: 'prod/api' } },
      'secretRefresh: secret "apiKey": unknown source kind missing; expected source: ' +
        '"secretsManager", "ssm", "function"',
    ],
    [
      'an empty secret id',
      { db: { source: 'secretsManager', secretId: '' } },
      'secretRefresh: secret "db": "secretId" must be a non-empty string',
    ],
    [
      'an empty parameter name',
      { key: { source: 'ssm', name: '  ' } },
      'secretRefresh: secret "key": "name" must be a non-empty string',
    ],
    ['an empty entry name', { '': () => 'x' }, 'secretRefresh: a secret has an empty name'],
    [
      'a field of another kind',
      { key: { source: 'ssm', name: '/k', versionStage: 'AWSCURRENT' } },
      'secretRefresh: secret "key": unknown field "versionStage" for source "ssm"',
    ],
    [
      'a name Lambda uses on the context',
      { functionName: () => 'x' },
      'secretRefresh: secret "functionName": the name is a key of Lambda\'s context; ' +
        'choose another name',
    ],
    [
      'a zero timeout',
      { key: { source: 'function', fetch: () => 'x', timeoutMs: 0 } },
      'secretRefresh: secret "key": "timeoutMs" must be a number of milliseconds from 1 to ' +
        '2147483647',
    ],
    [
      'a timeout longer than Node timers keep',
      { key: { source: 'function', fetch: () => 'x', timeoutMs: 3e9 } },
      'secretRefresh: secret "key": "timeoutMs" must be a number of milliseconds from 1 to ' +
        '2147483647',
    ],
  ])('%s', (_label, secrets, message) => {
    expect(() => secretRefresh({ secrets } as never)).toThrow(new TypeError(message))
    expect(getAfterRestore()).toEqual([])
  })

  it.each([
    [{ secrets: {} }, 'secretRefresh: "secrets" is empty; name at least one source'],
    [
      { secrets: { a: one }, refresh: 'sometimes' },
      'secretRefresh: "refresh" must be "eager" or "lazy"',
    ],
    [
      { secrets: { a: one }, maxAgeMs: -1 },
      'secretRefresh: "maxAgeMs" must be a number of milliseconds from 1 to 2147483647',
    ],
    [
      { secrets: { a: one }, maxAgeMs: 3e9 },
      'secretRefresh: "maxAgeMs" must be a number of milliseconds from 1 to 2147483647',
    ],
    [
      { secrets: { a: one }, onError: 'ignore' },
      'secretRefresh: "onError" must be "fail" or "keep-previous"',
    ],
    [
      { secrets: { a: one }, clearMiddyCache: 'yes' },
      'secretRefresh: "clearMiddyCache" must be true, false or an array of clearCache functions',
    ],
    [
      { secrets: { a: one }, cache: true },
      'secretRefresh: unknown option "cache"; known options: secrets, refresh, maxAgeMs, ' +
        'clearMiddyCache, onError, awsClientOptions',
    ],
    [
      { secrets: { a: one }, awsClientOptions: { s3: {} } },
      'secretRefresh: unknown key "s3" in "awsClientOptions"; expected secretsManager, ssm',
    ],
  ])('rejects %j', (options, message) => {
    expect(() => secretRefresh(options as never)).toThrow(new TypeError(message))
  })
})

describe('option errors carry the option path and the problem apart from the message', () => {
  /** The error `secretRefresh(options)` throws. */
  function thrown(options: unknown): OptionError {
    try {
      secretRefresh(options as never)
    } catch (error) {
      return error as OptionError
    }
    throw new Error('secretRefresh accepted bad options')
  }

  it.each([
    [
      'a field of one secret',
      { secrets: { db: { source: 'ssm', name: '/db', decrypt: 'yes' } } },
      'secretRefresh: secret "db": "decrypt" must be a boolean',
      ['secrets', 'db', 'decrypt'],
      'must be a boolean',
    ],
    [
      'an unknown field of one secret',
      { secrets: { db: { source: 'secretsManager', secretId: 'db', name: '/db' } } },
      'secretRefresh: secret "db": unknown field "name" for source "secretsManager"',
      ['secrets', 'db'],
      'has unknown field "name" for source "secretsManager"',
    ],
    [
      'a top-level option',
      { secrets: { a: one }, refresh: 'never' },
      'secretRefresh: "refresh" must be "eager" or "lazy"',
      ['refresh'],
      'must be "eager" or "lazy"',
    ],
    [
      'a nested option',
      { secrets: { a: one }, awsClientOptions: { ssm: 'eu-west-1' } },
      'secretRefresh: "awsClientOptions.ssm" must be an object',
      ['awsClientOptions', 'ssm'],
      'must be an object',
    ],
    [
      'an unknown option',
      { secrets: { a: one }, ttl: 5 },
      'secretRefresh: unknown option "ttl"; known options: secrets, refresh, maxAgeMs, ' +
        'clearMiddyCache, onError, awsClientOptions',
      [],
      'unknown option "ttl"; known options: secrets, refresh, maxAgeMs, clearMiddyCache, ' +
        'onError, awsClientOptions',
    ],
  ])('%s', (_label, options, message, path, problem) => {
    const error = thrown(options)
    expect(error).toBeInstanceOf(TypeError)
    expect(error).toBeInstanceOf(OptionError)
    expect(error.name).toBe('TypeError')
    expect(error.message).toBe(message)
    expect(error.path).toEqual(path)
    expect(error.problem).toBe(problem)
    expect(Object.keys(error)).toEqual([])
    expect(getAfterRestore()).toEqual([])
  })
})

describe('failed fetches name the entry and never hold the value', () => {
  it('a source that times out: SecretTimeoutError after timeoutMs', async () => {
    const handler = middy(async () => 'unreached').use(
      secretRefresh({
        secrets: {
          slow: { source: 'function', fetch: () => new Promise(() => {}), timeoutMs: 50 },
        },
      }),
    )

    const error = (await handler({}, lambdaContext()).catch((e: unknown) => e)) as Error

    expect(error).toBeInstanceOf(SecretTimeoutError)
    expect(error).toMatchObject({ entry: 'slow', source: 'function', timeoutMs: 50 })
    expect(error.message).toBe(
      'secretRefresh: fetching "slow" (function) took longer than 50 ms. Check that the ' +
        'endpoint is reachable, or raise timeoutMs.',
    )
  })

  it('a fetch cut short by the phase budget says so, not to raise timeoutMs', async () => {
    let calls = 0
    const handler = middy(async () => 'ok').use(
      secretRefresh({
        secrets: {
          slow: {
            source: 'function',
            fetch: () => (++calls === 1 ? Promise.resolve('v1') : new Promise(() => {})),
            timeoutMs: 60_000,
          },
        },
      }),
    )
    await handler({}, lambdaContext())
    await runBeforeSnapshot()

    const failure = (await runAfterRestore({ budgetMs: 300 }).catch((e: unknown) => e)) as Error

    expect(failure).toBeInstanceOf(SnapStartPhaseError)
    const message = (failure.cause as Error).message
    expect(message).toMatch(
      /^secretRefresh: fetching "slow" \(function\) took longer than \d+ ms\. /,
    )
    expect(message.replace(/^.* \d+ ms\. /, '')).toBe(
      'That was what was left of the phase budget: check that the endpoint is reachable, or ' +
        'give the phase more time (restoreBudgetMs after a restore).',
    )
  })

  it('a secret that is not JSON when JSON was asked: SecretParseError, no cause', async () => {
    h.aws.putSecret('prod/config', 'not-json-s3cr3t')
    const unhandled = watchUnhandled()
    const handler = middy(async () => 'unreached').use(
      secretRefresh({
        secrets: { config: { source: 'secretsManager', secretId: 'prod/config', json: true } },
        awsClientOptions: h.clientOptions(),
      }),
    )

    const error = (await handler({}, lambdaContext()).catch((e: unknown) => e)) as Error

    expect(error).toBeInstanceOf(SecretParseError)
    expect(error).toMatchObject({ entry: 'config', source: 'secretsManager' })
    expect(error.message).toBe(
      'secretRefresh: "config" (secretsManager) is not valid JSON, but the entry sets ' +
        'json: true. Store JSON in it, or remove json: true.',
    )
    expect(error.cause).toBeUndefined()
    expect(await unhandled.stop()).toEqual([])
  })

  it('a missing parameter fails the snapshot, naming the entry and the AWS error', async () => {
    secretRefresh({
      secrets: { key: { source: 'ssm', name: '/app/missing' } },
      awsClientOptions: h.clientOptions(),
    })

    const error = (await runBeforeSnapshot().catch((e: unknown) => e)) as SnapStartPhaseError

    expect(error).toBeInstanceOf(SnapStartPhaseError)
    expect(error.hook).toBe('secret-refresh(key)')
    expect(error.cause).toBeInstanceOf(SecretRefreshError)
    expect((error.cause as Error).message).toBe(
      'secretRefresh: fetching "key" (ssm) failed (ParameterNotFound: UnknownError)',
    )
  })

  it('a function source error keeps only its name in the message, the error as cause', async () => {
    const thrown = new RangeError('value timeout-v1-66 out of range')
    const handler = middy(async () => 'unreached').use(
      secretRefresh({
        secrets: {
          limit: async () => {
            throw thrown
          },
        },
      }),
    )

    const error = (await handler({}, lambdaContext()).catch((e: unknown) => e)) as Error

    expect(error.message).toBe('secretRefresh: fetching "limit" (function) failed (RangeError)')
    expect(error.cause).toBe(thrown)
  })
})
