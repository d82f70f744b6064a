import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager'
import middy from '@middy/core'
import middy6 from 'middy6'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import {
  type FetchContext,
  registerSecretRefresh,
  SecretRefreshError,
  SecretTimeoutError,
  secretRefresh,
} from '../../middlewares/secret-refresh/index.js'
import { createStore } from '../../middlewares/secret-refresh/store.js'
import {
  getAfterRestore,
  runAfterRestore,
  runBeforeSnapshot,
  SnapStartPhaseError,
} from '../../src/index.js'
import { deferred, watchUnhandled } from '../core/helpers.js'
import {
  type Harness,
  lambdaContext,
  type SecretContext,
  startHarness,
} from '../support/secrets-harness.js'

const VALUES = [
  'alpha-v1-1a',
  'alpha-v2-2a',
  'beta-v1-1b',
  'beta-v2-2b',
  'gamma-v1-1c',
  'gamma-v2-2c',
  'opt-v1-5e5e',
  'fn-v1',
  'fn-v2',
  'fn-v3',
  'hunter2-db',
  'old-hunter1',
  'ssm-plain-3d',
  'required-v1-0f',
]

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

/** A function source that returns `values[n]` on its n-th call, counting the calls. */
function sequence(...values: string[]) {
  let calls = 0
  const fetch = async () => {
    const value = values[Math.min(calls, values.length - 1)]
    calls++
    return value
  }
  return { fetch, calls: () => calls }
}

describe('eager refresh (default)', () => {
  it('fetches every entry again in parallel inside the after-restore phase', async () => {
    const put = (version: 'v1' | 'v2') => {
      for (const name of ['alpha', 'beta', 'gamma']) {
        h.aws.putSecret(name, VALUES.find((value) => value.startsWith(`${name}-${version}`))!)
      }
    }
    put('v1')
    const handler = middy(async (_event: unknown, context: SecretContext) => [
      context.alpha,
      context.beta,
      context.gamma,
    ]).use(
      secretRefresh({
        secrets: {
          alpha: { source: 'secretsManager', secretId: 'alpha' },
          beta: { source: 'secretsManager', secretId: 'beta' },
          gamma: { source: 'secretsManager', secretId: 'gamma' },
        },
        awsClientOptions: h.clientOptions(),
      }),
    )
    await runBeforeSnapshot()
    put('v2')

    const held = h.aws.hold()
    const restore = runAfterRestore()
    await h.aws.arrived(6)
    expect(h.aws.requests).toHaveLength(3)
    held.release()
    const report = await restore
    const mark = h.aws.requests.length
    const seen = await handler({}, lambdaContext())

    expect(seen).toEqual(['alpha-v2-2a', 'beta-v2-2b', 'gamma-v2-2c'])
    expect(report.hooks[0]!.details).toEqual({
      secrets: 3,
      fetched: 3,
      keptPrevious: 0,
      refresh: 'eager',
    })
    expect(h.aws.since(mark)).toEqual([])
  })

  it('bounds each fetch by the restore budget, aborts its signal, names the entry', async () => {
    let seenSignal: AbortSignal | undefined
    let calls = 0
    registerSecretRefresh({
      secrets: {
        slow: ({ signal }: FetchContext) => {
          seenSignal = signal
          calls++
          return calls === 1 ? 'fn-v1' : new Promise(() => {})
        },
      },
    })
    await runBeforeSnapshot()

    const error = await runAfterRestore({ budgetMs: 200 }).catch((e: unknown) => e)

    expect(error).toBeInstanceOf(SnapStartPhaseError)
    expect((error as SnapStartPhaseError).hook).toBe('secret-refresh(slow)')
    const cause = (error as Error).cause
    expect(cause).toBeInstanceOf(SecretTimeoutError)
    expect((cause as SecretTimeoutError).entry).toBe('slow')
    expect((cause as SecretTimeoutError).timeoutMs).toBeLessThan(200)
    expect(seenSignal?.aborted).toBe(true)
  })

  it('fails the restore when an entry that is not optional cannot be fetched', async () => {
    const source = sequence('required-v1-0f')
    registerSecretRefresh({
      secrets: {
        required: async () => {
          if (source.calls() > 0) throw new Error('backend said required-v1-0f is revoked')
          return source.fetch()
        },
      },
    })
    await runBeforeSnapshot()

    const error = (await runAfterRestore().catch((e: unknown) => e)) as SnapStartPhaseError

    expect(error.message).toBe(
      'The after-restore hook "secret-refresh(required)" failed: SecretRefreshError: ' +
        'secretRefresh: fetching "required" (function) failed (Error)',
    )
    expect(error.cause).toBeInstanceOf(SecretRefreshError)
    expect((error.cause as SecretRefreshError).entry).toBe('required')
  })
})

describe('lazy refresh', () => {
  it('fetches nothing during the restore, then once on the first invocation', async () => {
    h.aws.putParameter('/app/key', 'alpha-v1-1a')
    const handler = middy(async (_event: unknown, context: SecretContext) => context.key).use(
      secretRefresh({
        secrets: { key: { source: 'ssm', name: '/app/key' } },
        refresh: 'lazy',
        awsClientOptions: h.clientOptions(),
      }),
    )
    await runBeforeSnapshot()
    h.aws.putParameter('/app/key', 'alpha-v2-2a')
    h.advance(30 * 60_000)

    const mark = h.aws.requests.length
    const report = await runAfterRestore()
    const duringRestore = h.aws.since(mark).length
    const first = await handler({}, lambdaContext())
    const second = await handler({}, lambdaContext())

    expect(duringRestore).toBe(0)
    expect(report.hooks[0]!.details).toMatchObject({ fetched: 0, refresh: 'lazy' })
    expect([first, second]).toEqual(['alpha-v2-2a', 'alpha-v2-2a'])
    expect(h.aws.since(mark).map((request) => [request.target, request.status])).toEqual([
      ['AmazonSSM.GetParameter', 200],
    ])
  })
})

describe('with @middy/core 6', () => {
  it('puts values fetched again after the restore on context and request.internal', async () => {
    h.aws.putParameter('/app/key', 'alpha-v1-1a')
    const seen: unknown[] = []
    const handler = (middy6 as unknown as typeof middy)(
      async (_event: unknown, context: SecretContext) => context.key,
    )
      .use(
        secretRefresh({
          secrets: { key: { source: 'ssm', name: '/app/key' } },
          awsClientOptions: h.clientOptions(),
        }),
      )
      .use({
        before: (request: { internal: Record<string, unknown> }) => {
          seen.push(request.internal.key)
        },
      })
    await runBeforeSnapshot()
    h.aws.putParameter('/app/key', 'alpha-v2-2a')
    await runAfterRestore()

    const value = await handler({}, lambdaContext())

    expect(value).toBe('alpha-v2-2a')
    expect(seen).toEqual(['alpha-v2-2a'])
  })
})

describe('maxAgeMs', () => {
  it('fetches a value again on the first invocation after it is older than maxAgeMs', async () => {
    const source = sequence('fn-v1', 'fn-v2', 'fn-v3')
    const handler = middy(async (_event: unknown, context: SecretContext) => context.token).use(
      secretRefresh({ secrets: { token: source.fetch }, maxAgeMs: 60_000 }),
    )

    const atInit = await handler({}, lambdaContext())
    h.advance(59_999)
    const justBefore = await handler({}, lambdaContext())
    h.advance(1)
    const atMaxAge = await handler({}, lambdaContext())
    const after = await handler({}, lambdaContext())

    expect([atInit, justBefore, atMaxAge, after]).toEqual(['fn-v1', 'fn-v1', 'fn-v2', 'fn-v2'])
    expect(source.calls()).toBe(2)
  })
})

describe('optional entries', () => {
  it('keep the previous value after a failed refresh; the warning names the entry', async () => {
    let fail = false
    const handler = middy(async (_event: unknown, context: SecretContext) => context.flags).use(
      secretRefresh({
        secrets: {
          flags: {
            source: 'function',
            optional: true,
            fetch: async () => {
              if (fail) throw new Error('upstream down; last value was opt-v1-5e5e')
              return 'opt-v1-5e5e'
            },
          },
        },
      }),
    )
    await runBeforeSnapshot()
    fail = true

    const report = await runAfterRestore()
    const seen = await handler({}, lambdaContext())

    expect(seen).toBe('opt-v1-5e5e')
    expect(report.hooks[0]!.details).toMatchObject({ fetched: 0, keptPrevious: 1 })
    const warnings = h.logLines().filter((line) => line.level === 'WARN')
    expect(warnings).toEqual([
      expect.objectContaining({
        message: 'secretRefresh: "flags" could not be fetched; serving the previous value',
        type: 'snapstart.secretRefresh.keptPrevious',
        secret: 'flags',
        source: 'function',
        error: {
          name: 'SecretRefreshError',
          message: 'secretRefresh: fetching "flags" (function) failed (Error)',
        },
      }),
    ])
  })

  it("onError: 'keep-previous' makes every entry optional", async () => {
    h.aws.putSecret('prod/db', 'hunter2-db')
    const handler = middy(async (_event: unknown, context: SecretContext) => context.db).use(
      secretRefresh({
        secrets: { db: { source: 'secretsManager', secretId: 'prod/db' } },
        onError: 'keep-previous',
        awsClientOptions: {
          secretsManager: { ...h.clientOptions().secretsManager, maxAttempts: 1 },
        },
      }),
    )
    await runBeforeSnapshot()
    h.advance(10 * 60_000)
    h.clock.advance(-20 * 60_000)

    await runAfterRestore()
    const seen = await handler({}, lambdaContext())

    expect(seen).toBe('hunter2-db')
    const warning = h.logLines().find((line) => line.level === 'WARN')
    expect(warning?.error).toEqual({
      name: 'SecretRefreshError',
      message: expect.stringMatching(
        new RegExp(
          '^secretRefresh: fetching "db" \\(secretsManager\\) failed ' +
            '\\(InvalidSignatureException: Signature not yet current: ',
        ),
      ),
    })
  })
})

describe('sources and where values appear', () => {
  it('reads JSON, a version stage, an ARN and SSM into context and internal', async () => {
    h.aws.putSecret('prod/db', 'old-hunter1')
    h.aws.putSecret('prod/db', JSON.stringify({ user: 'app', password: 'hunter2-db' }))
    h.aws.putParameter('/app/plain', 'ssm-plain-3d')
    let internal: Record<string, unknown> = {}
    const handler = middy(async (_event: unknown, context: SecretContext) => ({
      db: context.db,
      previous: context.previous,
      byArn: context.byArn,
      plain: context.plain,
    }))
      .use(
        secretRefresh({
          secrets: {
            db: { source: 'secretsManager', secretId: 'prod/db', json: true },
            previous: {
              source: 'secretsManager',
              secretId: 'prod/db',
              versionStage: 'AWSPREVIOUS',
            },
            byArn: {
              source: 'secretsManager',
              secretId: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbCdEf',
              json: true,
            },
            plain: { source: 'ssm', name: '/app/plain', decrypt: false },
          },
          awsClientOptions: h.clientOptions(),
        }),
      )
      .before((request) => {
        internal = { ...request.internal }
      })

    const seen = await handler({}, lambdaContext())

    const db = { user: 'app', password: 'hunter2-db' }
    expect(seen).toEqual({ db, previous: 'old-hunter1', byArn: db, plain: 'encrypted:1' })
    expect(internal).toEqual(seen)
  })

  it('serves registry-only users through the store, with the same hooks', async () => {
    const source = sequence('fn-v1', 'fn-v2')
    const store = registerSecretRefresh({ secrets: { token: source.fetch } })

    const atInit = await store.get('token')
    await runBeforeSnapshot()
    await runAfterRestore()
    const afterRestore = await store.values()

    expect(atInit).toBe('fn-v1')
    expect(afterRestore).toEqual({ token: 'fn-v2' })
    expect(store.names).toEqual(['token'])
    expect(getAfterRestore().map((hook) => hook.name)).toEqual(['secret-refresh(token)'])
    await expect(store.get('nope')).rejects.toThrow(
      'secretRefresh: no secret named "nope"; known: token',
    )
    store.unregister()
    expect(getAfterRestore()).toEqual([])
  })

  it('waits for a restore in progress before reading the values', async () => {
    const gate = deferred<string>()
    let calls = 0
    const handler = middy(async (_event: unknown, context: SecretContext) => context.token).use(
      secretRefresh({
        secrets: {
          token: () => {
            calls++
            return calls === 1 ? 'fn-v1' : gate.promise
          },
        },
      }),
    )
    await runBeforeSnapshot()

    const restore = runAfterRestore()
    const invocation = handler({}, lambdaContext())
    gate.resolve('fn-v2')

    expect(await invocation).toBe('fn-v2')
    await restore
    expect(calls).toBe(2)
  })
})

describe('unregister', () => {
  it('aborts a function source in flight and drops its late result', async () => {
    const first = deferred<string>()
    const signals: AbortSignal[] = []
    const store = registerSecretRefresh({
      secrets: {
        token: ({ signal }: FetchContext) => {
          signals.push(signal)
          return signals.length === 1 ? first.promise : 'fn-v2'
        },
      },
    })

    store.unregister()
    first.resolve('fn-v1')

    expect(signals).toHaveLength(1)
    expect(signals[0]!.aborted).toBe(true)
    expect(signals[0]!.reason).toEqual(
      new Error('secretRefresh: secret-refresh(token) was unregistered'),
    )
    expect(await store.get('token')).toBe('fn-v2')
    expect(getAfterRestore()).toEqual([])
  })

  it('aborts an SDK call in flight and destroys the client', async () => {
    const unhandled = watchUnhandled()
    h.aws.putSecret('prod/api', 'sk-init-4f1d')
    const held = h.aws.hold()
    const send = vi.spyOn(SecretsManagerClient.prototype, 'send')
    const destroy = vi.spyOn(SecretsManagerClient.prototype, 'destroy')
    const store = registerSecretRefresh({
      secrets: { apiKey: { source: 'secretsManager', secretId: 'prod/api' } },
      awsClientOptions: h.clientOptions(),
    })
    await h.aws.arrived(1)

    store.unregister()
    const report = await runBeforeSnapshot()
    held.release()

    const options = send.mock.calls[0]![1] as { abortSignal: AbortSignal }
    expect(send).toHaveBeenCalledTimes(1)
    expect(options.abortSignal.aborted).toBe(true)
    expect(destroy).toHaveBeenCalledTimes(1)
    expect(report.hooks).toEqual([])
    expect(await unhandled.stop()).toEqual([])
    send.mockRestore()
    destroy.mockRestore()
  })
})

describe('per-invocation cost', () => {
  it('without maxAgeMs serves the cached values without scanning the entries', async () => {
    const store = createStore({ secrets: { a: async () => 'fn-v1', b: async () => 'fn-v2' } })
    const first = await store.current()
    const now = vi.spyOn(Date, 'now')
    const filter = vi.spyOn(Array.prototype, 'filter')

    const again = store.current()
    const scans = filter.mock.calls.length
    filter.mockRestore()
    const clockReads = now.mock.calls.length
    now.mockRestore()

    expect(again).toBe(first)
    expect(again).toEqual({ a: 'fn-v1', b: 'fn-v2' })
    expect([scans, clockReads]).toEqual([0, 0])
  })

  it('still checks each value against maxAgeMs when it is set', async () => {
    const store = createStore({
      secrets: { a: async () => 'fn-v1', b: async () => 'fn-v2' },
      maxAgeMs: 60_000,
    })
    const first = await store.current()
    const now = vi.spyOn(Date, 'now')

    const again = store.current()
    const calls = now.mock.calls.length
    now.mockRestore()

    expect(again).toBe(first)
    expect(calls).toBe(2)
  })

  it('does not cache a value whose fetch a restore overtook; the next call fetches', async () => {
    const second = deferred<string>()
    let calls = 0
    const store = createStore({
      secrets: {
        token: () => {
          calls++
          return calls === 2 ? second.promise : `fn-v${calls}`
        },
      },
      refresh: 'lazy',
    })
    expect(await store.current()).toEqual({ token: 'fn-v1' })
    await runBeforeSnapshot()
    await runAfterRestore()

    const overtaken = store.current()
    await runAfterRestore()
    second.resolve('fn-v2')
    await overtaken

    expect(await store.current()).toEqual({ token: 'fn-v3' })
    expect(calls).toBe(3)
  })
})
