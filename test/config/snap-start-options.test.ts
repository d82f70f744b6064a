import middy from '@middy/core'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { withEnvironmentSecrets } from '../../middlewares/environment.js'
import { poolReset } from '../../middlewares/pool-reset/index.js'
import { rngReseed } from '../../middlewares/rng-reseed/index.js'
import {
  configureFromEnvironment,
  getAfterRestore,
  getBeforeSnapshot,
  getLastReport,
  InvalidConfigurationError,
  onPhaseEnd,
  reset,
  runAfterRestore,
  runBeforeSnapshot,
  snapStart,
} from '../../src/index.js'
import { captureLogs, watchUnhandled } from '../core/helpers.js'
import { type FakeAws, startFakeAws } from '../support/secrets-endpoint.js'
import { isolateAwsEnv } from '../support/secrets-env.js'

let logs: ReturnType<typeof captureLogs>

beforeEach(() => {
  reset()
  logs = captureLogs()
})
afterEach(() => {
  logs.restore()
  reset()
})

/** A custom pool-reset resource that records its calls. */
function resource(name: string, calls: string[]) {
  return {
    name,
    close: () => void calls.push(`close:${name}`),
    reopen: () => void calls.push(`reopen:${name}`),
  }
}

const names = (hooks: readonly { name: string }[]) => hooks.map((hook) => hook.name)

/** The error `run` throws. */
function thrown(run: () => unknown): Error {
  try {
    run()
  } catch (error) {
    return error as Error
  }
  throw new Error('expected an error')
}

describe('snapStart(options): validation at factory time, naming the option path', () => {
  const pool = resource('db', [])
  it.each([
    [{ poolreset: {} }, 'snapStart: unknown option "poolreset"; known options: metrics, strict'],
    [{ restoreBudgetMs: '5000' }, 'snapStart: "restoreBudgetMs" must be a whole number'],
    [{ restoreBudgetMs: 0 }, 'snapStart: "restoreBudgetMs" must be a whole number'],
    [{ restoreBudgetMs: 1.5 }, 'snapStart: "restoreBudgetMs" must be a whole number'],
    [{ rngReseed: 'yes' }, 'snapStart: "rngReseed" must be true, false or { reseed: [functions] }'],
    [{ rngReseed: { seed: [] } }, 'snapStart: "rngReseed.seed" is not an option of rngReseed'],
    [{ rngReseed: { reseed: () => {} } }, 'snapStart: "rngReseed.reseed" must be an array'],
    [{ rngReseed: { reseed: [1] } }, 'snapStart: "rngReseed.reseed[0]" must be a function'],
    [{ poolReset: true }, 'snapStart: "poolReset" must be false or { resources'],
    [{ poolReset: { pools: [] } }, 'snapStart: "poolReset.pools" is not an option of poolReset'],
    [{ poolReset: { resources: 'db' } }, 'snapStart: "poolReset.resources" must be an array'],
    [{ poolReset: { resources: [] } }, 'snapStart: "poolReset.resources" is empty'],
    [
      { poolReset: { resources: [pool], prewarm: -1 } },
      'snapStart: "poolReset.prewarm" must be a whole number >= 0',
    ],
    [
      { poolReset: { resources: [pool], drainTimeoutMs: 'x' } },
      'snapStart: "poolReset.drainTimeoutMs" must be a number of milliseconds from 1 to 2147483647',
    ],
    [
      { poolReset: { resources: [pool], drainTimeoutMs: 3e9 } },
      'snapStart: "poolReset.drainTimeoutMs" must be a number of milliseconds from 1 to 2147483647',
    ],
    [{ secrets: true }, 'snapStart: "secrets" must be false or an object of named sources'],
    [{ secrets: {} }, 'snapStart: "secrets" is empty; name at least one source'],
    [{ secrets: { apiKey: 'sk-1' } }, 'snapStart: "secrets.apiKey" must be a source object'],
    [
      { secrets: { apiKey: { source: 'vault' } } },
      'snapStart: "secrets.apiKey.source" must be "secretsManager", "ssm" or "function"',
    ],
    [
      { secrets: { apiKey: { source: 'secretsManager' } } },
      'snapStart: "secrets.apiKey.secretId" must be a non-empty string',
    ],
    [
      { secrets: { apiKey: { source: 'ssm', name: '' } } },
      'snapStart: "secrets.apiKey.name" must be a non-empty string',
    ],
    [
      { secrets: { apiKey: { source: 'function', fetch: 'x' } } },
      'snapStart: "secrets.apiKey.fetch" must be a function',
    ],
    [
      { secrets: { apiKey: { source: 'ssm', name: '/a', timeoutMs: -1 } } },
      'snapStart: "secrets.apiKey.timeoutMs" must be a number of milliseconds from 1 to 2147483647',
    ],
    [
      { secrets: { apiKey: { source: 'ssm', name: '/a', timeoutMs: 3e9 } } },
      'snapStart: "secrets.apiKey.timeoutMs" must be a number of milliseconds from 1 to 2147483647',
    ],
    [
      { secrets: { apiKey: { source: 'ssm', name: '/a' } }, secretRefresh: { maxAgeMs: 3e9 } },
      'snapStart: "secretRefresh.maxAgeMs" must be a number of milliseconds from 1 to 2147483647',
    ],
    [
      { secrets: { apiKey: { source: 'ssm', name: '/a', region: 'x' } } },
      'snapStart: "secrets.apiKey" has unknown field "region" for source "ssm"',
    ],
    [
      { secrets: { done: async () => 1 } },
      `snapStart: "secrets.done" the name is a key of Lambda's context`,
    ],
    [{ secretRefresh: { refresh: 'eager' } }, 'snapStart: "secretRefresh" needs "secrets"'],
    [
      { secrets: { a: async () => 1 }, secretRefresh: { refresh: 'soon' } },
      'snapStart: "secretRefresh.refresh" must be "eager" or "lazy"',
    ],
    [
      { secrets: { a: async () => 1 }, secretRefresh: { secrets: {} } },
      'snapStart: "secretRefresh.secrets" is not an option of secretRefresh',
    ],
    [{ prime: [] }, 'snapStart: "prime" must be an object such as { events: [{}] }'],
  ])('%j', (options, message) => {
    expect(() => snapStart(options as never)).toThrow(message)
    expect(getAfterRestore()).toEqual([])
    expect(getBeforeSnapshot()).toEqual([])
  })

  it.each([
    [
      { secrets: { apiKey: { source: 'ssm', name: '/a', decrypt: 'yes' } } },
      'snapStart: "secrets.apiKey.decrypt" must be a boolean',
    ],
    [
      { secrets: { apiKey: { source: 'secretsManager', secretId: 'a', versionStage: ' ' } } },
      'snapStart: "secrets.apiKey.versionStage" must be a non-empty string',
    ],
    [
      { secrets: { apiKey: { source: 'secretsManager', secretId: 'a', decrypt: true } } },
      'snapStart: "secrets.apiKey" has unknown field "decrypt" for source "secretsManager"',
    ],
    [
      { secrets: { a: async () => 1 }, secretRefresh: { onError: 'ignore' } },
      'snapStart: "secretRefresh.onError" must be "fail" or "keep-previous"',
    ],
    [
      { secrets: { a: async () => 1 }, secretRefresh: { awsClientOptions: { ssm: 1 } } },
      'snapStart: "secretRefresh.awsClientOptions.ssm" must be an object',
    ],
  ])('words what secretRefresh finds in %j by its snapStart path', (options, message) => {
    const error = thrown(() => snapStart(options as never))
    expect(error).toBeInstanceOf(TypeError)
    expect(error.name).toBe('TypeError')
    expect(error.message).toBe(message)
    expect(error.cause).toBeUndefined()
    expect(getAfterRestore()).toEqual([])
  })

  it.each([
    [
      { secrets: { a: async () => 1 }, secretRefresh: { awsClientOptions: { s3: {} } } },
      'unknown key "s3" in "awsClientOptions"; expected secretsManager, ssm',
    ],
    [{ secrets: { ' ': async () => 1 } }, 'a secret has an empty name'],
  ])('keeps the secretRefresh error as the cause when it names no path: %j', (options, text) => {
    const error = thrown(() => snapStart(options as never))
    expect(error).toBeInstanceOf(TypeError)
    expect(error.message).toBe(`snapStart: ${text}`)
    expect(error.cause).toBeInstanceOf(TypeError)
    expect((error.cause as Error).message).toBe(`secretRefresh: ${text}`)
    expect(getAfterRestore()).toEqual([])
  })

  it('rejects a pool resource of an unknown kind when it registers, at factory time', () => {
    expect(() => snapStart({ poolReset: { resources: { db: { query() {} } } } })).toThrow(
      'poolReset: resources.db (a plain object) is not a resource this middleware knows',
    )
  })
})

describe('snapStart(options): one middleware, hooks in the right order', () => {
  it('returns one middleware object; without options its before is the plain fast path', () => {
    const plain = snapStart()
    const configured = snapStart({ secrets: { token: async () => 't' } })
    expect(Object.keys(plain)).toEqual(['before'])
    expect(Object.keys(configured)).toEqual(['before'])
    expect(plain.before).toBe(snapStart({ metrics: false }).before)
    expect(plain.before.name).toBe('snapStartMiddlewareBefore')
    expect(configured.before.name).toBe('snapStartWithSecretsBefore')
  })

  it('building with the same options object again registers nothing more', () => {
    const options = { poolReset: { resources: [resource('db', [])] }, rngReseed: true }
    const first = snapStart(options)
    expect(snapStart(options)).toBe(first)
    expect(names(getAfterRestore())).toEqual(['rng-reseed', 'pool-reset:db'])
  })

  it('after restore: reseed, pool reset, secrets; before the snapshot: priming first', async () => {
    process.env.AWS_LAMBDA_INITIALIZATION_TYPE = 'snap-start'
    const calls: string[] = []
    let version = 1
    const handler = middy()
      .use(
        snapStart({
          prime: { events: [{ warm: true }] },
          poolReset: { resources: { db: resource('db', calls) } },
          secrets: { token: async () => `token-v${version}` },
          rngReseed: true,
        }),
      )
      .handler(async (event: any, context: any) => {
        calls.push(event.warm ? 'primed' : 'invoked')
        return { token: context.token, restored: context.snapStart.restored }
      })
    const { provideHandler } = await import('../../src/lifecycle.js')
    provideHandler(handler)

    expect(names(getAfterRestore())).toEqual([
      'rng-reseed',
      'pool-reset:db',
      'secret-refresh(token)',
    ])
    expect(names(getBeforeSnapshot())).toEqual(['prime', 'secret-refresh(token)', 'pool-reset:db'])

    await runBeforeSnapshot()
    version = 2
    await runAfterRestore()

    expect(calls).toEqual(['primed', 'close:db', 'reopen:db'])
    expect(await handler({}, {} as never)).toEqual({ token: 'token-v2', restored: true })
    expect(getLastReport('afterRestore')?.hooks.map((hook) => hook.status)).toEqual([
      'ok',
      'ok',
      'ok',
    ])
    delete process.env.AWS_LAMBDA_INITIALIZATION_TYPE
  })
})

describe('precedence: code over environment over defaults', () => {
  let aws: FakeAws
  let restoreEnv: () => void

  beforeEach(async () => {
    restoreEnv = isolateAwsEnv()
    aws = await startFakeAws()
    aws.putSecret('prod/api', 'from-environment')
    Object.assign(process.env, {
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'AKIDLOCALTEST',
      AWS_SECRET_ACCESS_KEY: 'local-secret-access-key',
      AWS_ENDPOINT_URL_SECRETS_MANAGER: aws.url,
    })
  })
  afterEach(async () => {
    await aws.close()
    restoreEnv()
  })

  const everything = {
    SNAPSTART_RNG_RESEED: 'true',
    SNAPSTART_POOL_RESET: 'true',
    SNAPSTART_METRICS: 'FromEnv',
    SNAPSTART_STRICT: 'true',
    SNAPSTART_SECRETS: '{"apiKey":{"source":"secretsManager","secretId":"prod/api"}}',
  }

  it('the environment alone registers its hooks, reseed first', () => {
    configureFromEnvironment(everything)
    expect(names(getAfterRestore())).toEqual([
      'rng-reseed',
      'pool-reset:fetch',
      'pool-reset:http.globalAgent',
      'pool-reset:https.globalAgent',
      'secret-refresh(apiKey)',
    ])
  })

  it('a malformed variable throws before anything registers', () => {
    expect(() => configureFromEnvironment({ ...everything, SNAPSTART_POOL_RESET: 'pg' })).toThrow(
      InvalidConfigurationError,
    )
    expect(getAfterRestore()).toEqual([])
  })

  it('applies once per process: a second call registers nothing more', () => {
    configureFromEnvironment(everything)
    configureFromEnvironment(everything)
    expect(getAfterRestore()).toHaveLength(5)
  })

  it('false in code turns each environment behaviour off', async () => {
    configureFromEnvironment(everything)
    snapStart({ rngReseed: false, poolReset: false, secrets: false, metrics: false, strict: false })

    expect(getAfterRestore()).toEqual([])
    const { registerAfterRestore } = await import('../../src/index.js')
    await runAfterRestore()
    expect(() => registerAfterRestore(function late() {})).not.toThrow()
    expect(logs.lines().filter((line) => '_aws' in line)).toEqual([])
  })

  it('an option in code replaces the same option from the environment as a whole', async () => {
    configureFromEnvironment(everything)
    const calls: string[] = []
    snapStart({
      poolReset: { resources: { db: resource('db', calls) } },
      secrets: { token: async () => 'from-code' },
      metrics: { namespace: 'FromCode' },
    })

    expect(names(getAfterRestore())).toEqual([
      'rng-reseed',
      'pool-reset:db',
      'secret-refresh(token)',
    ])
    await runAfterRestore()
    const namespaces = logs
      .lines()
      .filter((line) => '_aws' in line)
      .map((line) => (line._aws as any).CloudWatchMetrics[0].Namespace)
    expect(namespaces).toEqual(['FromCode'])
  })

  it('options not given in code keep the environment value', async () => {
    configureFromEnvironment(everything)
    snapStart({ restoreBudgetMs: 3000 })
    const seen: string[] = []
    onPhaseEnd((report) => seen.push(`${report.phase}:${report.status}`))

    await runAfterRestore()

    expect(seen).toEqual(['afterRestore:ok'])
    expect(names(getLastReport('afterRestore')!.hooks)).toEqual([
      'rng-reseed',
      'pool-reset:fetch',
      'pool-reset:http.globalAgent',
      'pool-reset:https.globalAgent',
      'secret-refresh(apiKey)',
    ])
    expect(
      logs
        .lines()
        .filter((line) => '_aws' in line)
        .map((line) => line.phase),
    ).toEqual(['afterRestore'])
    const { registerAfterRestore, SnapStartLateRegistrationError } = await import(
      '../../src/index.js'
    )
    expect(() => registerAfterRestore(function lateHook() {})).toThrow(
      SnapStartLateRegistrationError,
    )
  })

  it('withEnvironmentSecrets: a throw after the secrets wait goes to the callback', async () => {
    configureFromEnvironment({ SNAPSTART_SECRETS: everything.SNAPSTART_SECRETS })
    const unhandled = watchUnhandled()
    const handler = withEnvironmentSecrets((_e: unknown, _c: unknown, _cb: Function) => {
      throw new Error('boom')
    })

    const answer = await new Promise((resolve) => handler({}, {}, resolve))

    expect(answer).toEqual(new Error('boom'))
    expect(await unhandled.stop()).toEqual([])
  })
})

describe('environment and code sharing one resource', () => {
  it('false in code takes back the environment reseed, not the reseed code built', async () => {
    configureFromEnvironment({ SNAPSTART_RNG_RESEED: 'true' })
    let calls = 0
    const resetFaker = () => {
      calls++
    }
    rngReseed({ reseed: [resetFaker] })
    snapStart({ rngReseed: false })

    const report = await runAfterRestore()

    expect(names(getAfterRestore())).toEqual(['rng-reseed'])
    expect(calls).toBe(1)
    expect(report.hooks[0]!.details).toEqual({
      mathRandom: 'reseeded',
      uuidIdsSpent: 128,
      reseedFunctions: 1,
    })
  })

  it('false in code takes back the environment fetch reset, not the one code built', () => {
    configureFromEnvironment({ SNAPSTART_POOL_RESET: 'fetch' })
    poolReset({ resources: [globalThis.fetch] })
    snapStart({ poolReset: false })

    expect(names(getAfterRestore())).toEqual(['pool-reset:fetch'])
    expect(names(getBeforeSnapshot())).toEqual(['pool-reset:fetch'])
  })
})
