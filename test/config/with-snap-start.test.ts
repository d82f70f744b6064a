import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  getBeforeSnapshot,
  registerAfterRestore,
  reset,
  runAfterRestore,
  runBeforeSnapshot,
  SnapStartPhaseError,
  withSnapStart,
} from '../../src/index.js'
import { captureLogs, deferred, watchUnhandled } from '../core/helpers.js'

let logs: ReturnType<typeof captureLogs>

beforeEach(() => {
  reset()
  logs = captureLogs()
  process.env.AWS_LAMBDA_INITIALIZATION_TYPE = 'snap-start'
})
afterEach(() => {
  logs.restore()
  reset()
  delete process.env.AWS_LAMBDA_INITIALIZATION_TYPE
})

/** Calls a callback-style handler the way Lambda does, resolving with what it reports. */
function callWithCallback(handler: Function, event: unknown, context: object) {
  return new Promise((resolve, reject) => {
    handler(event, context, (error: unknown, value: unknown) =>
      error ? reject(error) : resolve(value),
    )
  })
}

describe('withSnapStart(handler, options)', () => {
  it('puts context.snapStart on each call, the first after restore marked', async () => {
    const handler = withSnapStart(async (_event: unknown, context: any) => context.snapStart)
    await runBeforeSnapshot()
    await runAfterRestore()

    const first = await handler({}, {})
    const second = await handler({}, {})

    expect(first).toMatchObject({
      initializationType: 'snap-start',
      restored: true,
      firstInvocationAfterRestore: true,
      priming: false,
    })
    expect(second.firstInvocationAfterRestore).toBe(false)
    expect(handler.length).toBe(2)
  })

  it('keeps a callback-style handler one, and answers through the callback', async () => {
    const handler = withSnapStart((event: { n: number }, context: any, callback: Function) => {
      callback(null, { n: event.n, restored: context.snapStart.restored })
    })
    expect(handler.length).toBe(3)
    expect(await callWithCallback(handler, { n: 7 }, {})).toEqual({ n: 7, restored: false })
  })

  it('a three-parameter async handler answers through the callback', async () => {
    const handler = withSnapStart(
      async (_event: unknown, context: any, _callback: Function) => {
        return { token: context.token }
      },
      { secrets: { token: async () => 'tk-1' } },
    )
    expect(await callWithCallback(handler, {}, {})).toEqual({ token: 'tk-1' })
  })

  it('holds a call made during the after-restore phase until it ends', async () => {
    const gate = deferred()
    registerAfterRestore(() => gate.promise)
    const order: string[] = []
    const handler = withSnapStart(async (_event: unknown, context: any) => {
      order.push('handler')
      return context.snapStart.restored
    })
    const restoring = runAfterRestore().then(() => order.push('restored'))

    const call = handler({}, {})
    await Promise.resolve()
    expect(order).toEqual([])
    gate.resolve()

    expect(await call).toBe(true)
    await restoring
    expect(order).toEqual(['restored', 'handler'])
  })

  it('holds a callback call the same way, then answers through the callback', async () => {
    const gate = deferred()
    registerAfterRestore(() => gate.promise)
    const handler = withSnapStart((_e: unknown, context: any, callback: Function) =>
      callback(null, context.snapStart.firstInvocationAfterRestore),
    )
    const restoring = runAfterRestore()
    const call = callWithCallback(handler, {}, {})
    gate.resolve()
    await restoring
    expect(await call).toBe(true)
  })

  it('fails every call after a failed after-restore phase, handler not run', async () => {
    registerAfterRestore(function reconnect() {
      throw new Error('db down')
    })
    let ran = 0
    const asyncHandler = withSnapStart(async (_e: unknown, _c: unknown) => ++ran)
    const callbackHandler = withSnapStart((_e: unknown, _c: unknown, cb: Function) =>
      cb(null, ++ran),
    )
    await runAfterRestore().catch(() => {})

    await expect(asyncHandler({}, {})).rejects.toThrow(SnapStartPhaseError)
    await expect(asyncHandler({}, {})).rejects.toThrow('The after-restore hook "reconnect" failed')
    expect(() => callbackHandler({}, {}, () => {})).toThrow(SnapStartPhaseError)
    expect(ran).toBe(0)
  })

  it('fails a call held during a phase that then fails, through the callback', async () => {
    const gate = deferred()
    registerAfterRestore(function slow() {
      return gate.promise
    })
    const handler = withSnapStart((_e: unknown, _c: unknown, cb: Function) => cb(null, 'ran'))
    const restoring = runAfterRestore().catch(() => {})
    const call = callWithCallback(handler, {}, {})
    gate.reject(new Error('no network'))
    await restoring
    await expect(call).rejects.toThrow('The after-restore hook "slow" failed')
  })

  it('answers a callback handler that throws after a wait through its callback', async () => {
    const unhandled = watchUnhandled()
    const handler = withSnapStart(
      (_e: unknown, _c: unknown, _cb: Function) => {
        throw new Error('boom')
      },
      { secrets: { t: async () => 'v' } },
    )

    const answer = await callWithCallback(handler, {}, {}).catch((error: unknown) => error)

    expect(answer).toEqual(new Error('boom'))
    expect(await unhandled.stop()).toEqual([])
  })

  it('puts secrets on the context, fetched again after the restore', async () => {
    let version = 1
    const handler = withSnapStart(async (_e: unknown, context: any) => context.apiKey, {
      secrets: { apiKey: async () => `key-v${version}` },
    })
    expect(await handler({}, {})).toBe('key-v1')
    await runBeforeSnapshot()
    version = 2
    await runAfterRestore()
    expect(await handler({}, {})).toBe('key-v2')
  })

  it('primes the returned handler itself before the snapshot', async () => {
    const seen: unknown[] = []
    const handler = withSnapStart(
      async (event: unknown, context: any) => {
        seen.push([event, context.snapStart.priming, context.token])
        return 'ok'
      },
      { prime: { events: [{ warm: 1 }], times: 2 }, secrets: { token: async () => 'tk' } },
    )
    expect(getBeforeSnapshot().map((hook) => hook.name)).toEqual(['prime', 'secret-refresh(token)'])

    const report = await runBeforeSnapshot()

    expect(report.hooks[0]).toMatchObject({
      name: 'prime',
      status: 'ok',
      details: { invocations: 2 },
    })
    expect(seen).toEqual([
      [{ warm: 1 }, true, 'tk'],
      [{ warm: 1 }, true, 'tk'],
    ])
    expect(await handler({}, {})).toBe('ok')
  })

  it('checks the handler and every option at build time', () => {
    expect(() => withSnapStart('handler' as never)).toThrow(
      'withSnapStart: the handler must be a function, got string',
    )
    expect(() => withSnapStart(async () => {}, { rngReseed: 1 } as never)).toThrow(
      'snapStart: "rngReseed" must be true, false or { reseed: [functions] }',
    )
    expect(() => withSnapStart(async () => {}, { prime: 'x' } as never)).toThrow(
      'snapStart: "prime" must be an object',
    )
    expect(() => withSnapStart(async () => {}, { prime: { events: [] } })).toThrow(
      'withSnapStart: "prime": "events" must be a non-empty array of events',
    )
  })
})
