import { afterEach, describe, expect, it } from 'vitest'
import {
  DEFAULT_RESTORE_BUDGET_MS,
  InvalidConfigurationError,
  readEnvironmentConfig,
  registerAfterRestore,
  reset,
  resolveRestoreBudgetMs,
  runAfterRestore,
  SnapStartLateRegistrationError,
  snapStart,
} from '../../src/index.js'
import { captureLogs } from '../core/helpers.js'

afterEach(() => {
  delete process.env.SNAPSTART_STRICT
  reset()
})

/** The error `readEnvironmentConfig(env)` throws. */
function failure(env: NodeJS.ProcessEnv): InvalidConfigurationError {
  try {
    readEnvironmentConfig(env)
  } catch (error) {
    return error as InvalidConfigurationError
  }
  throw new Error('readEnvironmentConfig accepted a malformed variable')
}

describe('readEnvironmentConfig: good values', () => {
  it('reads nothing from an environment without SNAPSTART_* variables', () => {
    expect(readEnvironmentConfig({ PATH: '/bin' })).toEqual({})
  })

  it('treats empty and blank variables as unset', () => {
    const env = { SNAPSTART_RNG_RESEED: '', SNAPSTART_SECRETS: '  ', SNAPSTART_METRICS: '' }
    expect(readEnvironmentConfig(env)).toEqual({})
  })

  it('reads every variable in its documented form', () => {
    const config = readEnvironmentConfig({
      SNAPSTART_LOG_LEVEL: 'DEBUG',
      SNAPSTART_STRICT: 'true',
      SNAPSTART_RNG_RESEED: 'false',
      SNAPSTART_METRICS: 'Orders/Api',
      SNAPSTART_RESTORE_BUDGET_MS: '4500',
      SNAPSTART_POOL_RESET: 'fetch, https,fetch',
      SNAPSTART_SECRETS: JSON.stringify({
        apiKey: { source: 'secretsManager', secretId: 'prod/api', json: true },
        flags: { source: 'ssm', name: '/app/flags', decrypt: false, timeoutMs: 800 },
      }),
    })
    expect(config).toEqual({
      logLevel: 'debug',
      strict: true,
      rngReseed: false,
      metrics: { namespace: 'Orders/Api' },
      restoreBudgetMs: 4500,
      poolReset: ['fetch', 'https'],
      secrets: {
        apiKey: { source: 'secretsManager', secretId: 'prod/api', json: true },
        flags: { source: 'ssm', name: '/app/flags', decrypt: false, timeoutMs: 800 },
      },
    })
  })

  it.each([
    ['true', { namespace: 'SnapStart' }],
    ['false', false],
    ['My.App-1_x/#:y', { namespace: 'My.App-1_x/#:y' }],
  ])('SNAPSTART_METRICS=%s', (raw, metrics) => {
    expect(readEnvironmentConfig({ SNAPSTART_METRICS: raw }).metrics).toEqual(metrics)
  })

  it.each([
    ['true', ['fetch', 'http', 'https']],
    ['false', []],
    ['http', ['http']],
  ])('SNAPSTART_POOL_RESET=%s', (raw, pools) => {
    expect(readEnvironmentConfig({ SNAPSTART_POOL_RESET: raw }).poolReset).toEqual(pools)
  })

  it.each(['debug', 'info', 'warn', 'error', 'silent', 'Warn'])('SNAPSTART_LOG_LEVEL=%s', (raw) => {
    expect(readEnvironmentConfig({ SNAPSTART_LOG_LEVEL: raw }).logLevel).toBe(raw.toLowerCase())
  })
})

describe('readEnvironmentConfig: every bad value is a Runtime.InvalidConfiguration error', () => {
  it.each([
    [
      'SNAPSTART_LOG_LEVEL',
      'verbose',
      'expected one of debug, info, warn, error, silent, got "verbose"',
    ],
    ['SNAPSTART_STRICT', 'yes', 'expected true or false, got "yes"'],
    ['SNAPSTART_STRICT', 'TRUE', 'expected true or false, got "TRUE"'],
    ['SNAPSTART_RNG_RESEED', '1', 'expected true or false, got "1"'],
    ['SNAPSTART_METRICS', 'my namespace', 'expected true, false or a CloudWatch namespace'],
    ['SNAPSTART_METRICS', 'AWS/Lambda', 'not starting with "AWS/"'],
    ['SNAPSTART_METRICS', 'x'.repeat(256), 'expected true, false or a CloudWatch namespace'],
    ['SNAPSTART_RESTORE_BUDGET_MS', 'soon', 'expected a whole number of milliseconds'],
    ['SNAPSTART_RESTORE_BUDGET_MS', '0', 'from 1 to 900000, got "0"'],
    ['SNAPSTART_RESTORE_BUDGET_MS', '-5', 'from 1 to 900000, got "-5"'],
    ['SNAPSTART_RESTORE_BUDGET_MS', '2.5', 'from 1 to 900000, got "2.5"'],
    ['SNAPSTART_RESTORE_BUDGET_MS', '900001', 'from 1 to 900000, got "900001"'],
    ['SNAPSTART_POOL_RESET', 'pg', '("pg" is not one of them)'],
    ['SNAPSTART_POOL_RESET', 'fetch,', '("" is not one of them)'],
  ])('%s=%s', (variable, raw, expected) => {
    const error = failure({ [variable]: raw })
    expect(error).toBeInstanceOf(InvalidConfigurationError)
    expect(error.name).toBe('Runtime.InvalidConfiguration')
    expect(error.variable).toBe(variable)
    expect(error.message.startsWith(`${variable}: `)).toBe(true)
    expect(error.message).toContain(expected)
  })

  const secretCases: [string, string, string][] = [
    ['not JSON', '{"apiKey": sk-live-123', 'is not valid JSON; expected an object such as'],
    ['an array', '["sk-live-123"]', 'expected a JSON object such as'],
    ['an empty object', '{}', 'is an empty object; name at least one secret'],
    ['a bare value', '{"apiKey":"sk-live-123"}', '"apiKey" must be an object such as'],
    [
      'an unknown source',
      '{"apiKey":{"source":"vault","secretId":"sk-live-123"}}',
      '"apiKey".source must be "secretsManager" or "ssm"',
    ],
    [
      'a function source',
      '{"apiKey":{"source":"function"}}',
      '"apiKey".source must be "secretsManager" or "ssm"',
    ],
    [
      'an unknown field',
      '{"apiKey":{"source":"ssm","name":"/a","value":"sk-live-123"}}',
      '"apiKey" has unknown field "value" for source "ssm"',
    ],
    [
      'a missing secretId',
      '{"apiKey":{"source":"secretsManager"}}',
      '"apiKey".secretId must be a non-empty string',
    ],
    [
      'a secretId that is not a string',
      '{"apiKey":{"source":"secretsManager","secretId":123456}}',
      '"apiKey".secretId must be a non-empty string',
    ],
    [
      'an empty versionStage',
      '{"apiKey":{"source":"secretsManager","secretId":"a","versionStage":""}}',
      '"apiKey".versionStage must be a non-empty string',
    ],
    ['a missing ssm name', '{"k":{"source":"ssm"}}', '"k".name must be a non-empty string'],
    [
      'a json flag that is not a boolean',
      '{"k":{"source":"ssm","name":"/a","json":"sk-live-123"}}',
      '"k".json must be true or false',
    ],
    [
      'a bad timeout',
      '{"k":{"source":"ssm","name":"/a","timeoutMs":0}}',
      '"k".timeoutMs must be a positive number of milliseconds',
    ],
    [
      'a timeout longer than Node timers keep',
      '{"k":{"source":"ssm","name":"/a","timeoutMs":3000000000}}',
      '"k": "timeoutMs" must be a number of milliseconds from 1 to 2147483647',
    ],
    [
      'a name Lambda uses on the context',
      '{"functionName":{"source":"ssm","name":"/a"}}',
      `"functionName": the name is a key of Lambda's context`,
    ],
  ]

  it.each(secretCases)('SNAPSTART_SECRETS with %s, never repeating a value', (_, raw, expected) => {
    const error = failure({ SNAPSTART_SECRETS: raw })
    expect(error.name).toBe('Runtime.InvalidConfiguration')
    expect(error.variable).toBe('SNAPSTART_SECRETS')
    expect(error.message).toContain(`SNAPSTART_SECRETS: ${expected}`)
    expect(error.message).not.toContain('sk-live-123')
    expect(error.message).not.toContain('123456')
  })

  it.each([
    [
      'a field of one secret',
      '{"k":{"source":"ssm","name":"/a","timeoutMs":0.5}}',
      'SNAPSTART_SECRETS: "k": "timeoutMs" must be a number of milliseconds from 1 to 2147483647',
    ],
    [
      'one secret as a whole',
      '{"snapStart":{"source":"ssm","name":"/a"}}',
      `SNAPSTART_SECRETS: "snapStart": the name is a key of Lambda's context; choose another name`,
    ],
    [
      'a problem that names no path',
      '{" ":{"source":"ssm","name":"/a"}}',
      'SNAPSTART_SECRETS: a secret has an empty name',
    ],
  ])('words what secretRefresh finds in SNAPSTART_SECRETS (%s) as its own', (_, raw, message) => {
    const error = failure({ SNAPSTART_SECRETS: raw })
    expect(error).toBeInstanceOf(InvalidConfigurationError)
    expect(error.variable).toBe('SNAPSTART_SECRETS')
    expect(error.message).toBe(message)
    expect(error.cause).toBeUndefined()
  })

  it('reports the first malformed variable in the documented order', () => {
    const error = failure({ SNAPSTART_SECRETS: '{', SNAPSTART_STRICT: 'no' })
    expect(error.variable).toBe('SNAPSTART_STRICT')
  })
})

describe('resolveRestoreBudgetMs: code over environment over default', () => {
  it('is 9 000 ms by default', () => {
    expect(DEFAULT_RESTORE_BUDGET_MS).toBe(9000)
    expect(resolveRestoreBudgetMs({})).toBe(9000)
  })

  it('takes SNAPSTART_RESTORE_BUDGET_MS over the default', () => {
    expect(resolveRestoreBudgetMs({ SNAPSTART_RESTORE_BUDGET_MS: '2500' })).toBe(2500)
  })

  it('takes snapStart({ restoreBudgetMs }) over the environment', () => {
    snapStart({ restoreBudgetMs: 1200 })
    expect(resolveRestoreBudgetMs({ SNAPSTART_RESTORE_BUDGET_MS: '2500' })).toBe(1200)
  })

  it('throws for a malformed variable when code gives no value', () => {
    expect(() => resolveRestoreBudgetMs({ SNAPSTART_RESTORE_BUDGET_MS: 'x' })).toThrow(
      InvalidConfigurationError,
    )
  })
})

describe('SNAPSTART_STRICT: the registry default reads it as the configuration does', () => {
  it.each([' true ', 'true\n'])('%j is strict for both', async (raw) => {
    process.env.SNAPSTART_STRICT = raw
    reset()
    await runAfterRestore()

    expect(readEnvironmentConfig({ SNAPSTART_STRICT: raw }).strict).toBe(true)
    expect(() => registerAfterRestore(function late() {})).toThrow(SnapStartLateRegistrationError)
  })

  it.each([' false ', 'TRUE', 'yes'])('%j is not strict for the registry', async (raw) => {
    process.env.SNAPSTART_STRICT = raw
    reset()
    await runAfterRestore()
    const logs = captureLogs()

    expect(() => registerAfterRestore(function late() {})).not.toThrow()
    logs.restore()
    expect(logs.lines().map((line) => line.type)).toEqual(['snapstart.lateRegistration'])
  })
})
