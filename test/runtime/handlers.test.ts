import { describe, expect, it } from 'vitest'
import { fixture, start } from '../emulator/helpers.js'

describe('handler module formats', () => {
  it('loads an ESM .js handler and a nested export', async () => {
    const emu = await start({ handler: fixture('rt-esm', 'handler.js'), onDemand: true })
    expect((await emu.invoke({ a: 1 })).response).toEqual({ style: 'esm', event: { a: 1 } })

    const nested = await start({
      handler: fixture('rt-esm', 'handler.js'),
      export: 'api.v1.get',
      onDemand: true,
    })
    expect((await nested.invoke({})).response).toEqual({ route: 'api.v1.get' })
  })

  it('loads a .mjs handler', async () => {
    const emu = await start({ handler: fixture('rt-esm', 'module.mjs'), onDemand: true })
    expect((await emu.invoke({})).response).toEqual({ style: 'esm', file: 'module.mjs' })
  })

  it('loads a CommonJS .js handler, a nested export, and a .cjs module.exports', async () => {
    const emu = await start({ handler: fixture('rt-cjs', 'handler.js') })
    expect((await emu.invoke({ b: 2 })).response).toEqual({ style: 'cjs', event: { b: 2 } })

    const nested = await start({ handler: fixture('rt-cjs', 'handler.js'), export: 'api.v1.get' })
    expect((await nested.invoke({})).response).toEqual({ route: 'api.v1.get' })

    const legacy = await start({ handler: fixture('rt-cjs', 'legacy.cjs'), onDemand: true })
    expect((await legacy.invoke({})).response).toEqual({ style: 'cjs', file: 'legacy.cjs' })
  })

  it('runs a TypeScript handler through tsx, with its after-restore hook', async () => {
    const emu = await start({
      handler: fixture('rt-ts', 'handler.ts'),
      functionName: 'greeter',
    })
    const result = await emu.invoke({ name: 'Ada' })
    expect(result.response).toEqual({ greeting: 'hello Ada from greeter', restored: true })
    expect(emu.afterRestore?.hooks.map((hook) => hook.name)).toEqual(['markRestored'])
  })
})

describe('middy handlers', () => {
  it('serves a middy 7 chain whose context functions work detached and copied', async () => {
    const emu = await start({ handler: fixture('rt-middy', 'handler.mjs'), timeoutSeconds: 30 })
    await emu.restore()

    const first = await emu.invoke({})
    const second = await emu.invoke({})

    expect(first.response).toEqual({ detached: true, copied: true, restored: true, first: true })
    expect(second.response).toEqual({ detached: true, copied: true, restored: true, first: false })
  })
})

describe('callback handlers', () => {
  it('waits for the event loop to empty before answering, by default', async () => {
    const emu = await start({ handler: fixture('rt-callback', 'handler.cjs'), onDemand: true })
    const result = await emu.invoke({})
    expect(result.response).toEqual({ timerRan: true, requestId: result.requestId })
  })

  it('answers at once with callbackWaitsForEmptyEventLoop = false', async () => {
    const emu = await start({ handler: fixture('rt-callback', 'handler.cjs'), onDemand: true })
    const result = await emu.invoke({ wait: false })
    expect(result.response).toEqual({ timerRan: false, requestId: result.requestId })
  })

  it('reports an error passed to the callback', async () => {
    const emu = await start({ handler: fixture('rt-callback', 'handler.cjs'), onDemand: true })
    const result = await emu.invoke({ fail: true, wait: false })
    expect(result.status).toBe('error')
    expect(result.error).toMatchObject({
      errorType: 'RangeError',
      errorMessage: 'callback failure',
    })
    expect(result.functionErrorType).toBe('Function.RangeError')
  })

  it('supports the deprecated context.succeed', async () => {
    const emu = await start({
      handler: fixture('rt-behaviours', 'handler.mjs'),
      export: 'legacySucceed',
      onDemand: true,
    })
    expect((await emu.invoke({})).response).toEqual({ via: 'succeed' })
  })
})

describe('the context object', () => {
  it('has every field of Context, identity and client context from headers', async () => {
    const emu = await start({
      handler: fixture('rt-behaviours', 'handler.mjs'),
      export: 'context',
      onDemand: true,
      timeoutSeconds: 5,
    })
    const identity = { cognitoIdentityId: 'id-1', cognitoIdentityPoolId: 'pool-1' }
    const clientContext = { client: { appTitle: 'app' }, env: { locale: 'en' } }
    const result = await emu.invoke({}, { identity, clientContext })
    const response = result.response as Record<string, unknown>
    expect(response.identity).toEqual(identity)
    expect(response.clientContext).toEqual(clientContext)
    expect(response.remaining).toBeGreaterThan(4_000)
    expect(response.remaining).toBeLessThanOrEqual(5_000)
    expect(response.keys).toEqual([
      'awsRequestId',
      'callbackWaitsForEmptyEventLoop',
      'clientContext',
      'done',
      'fail',
      'functionName',
      'functionVersion',
      'getRemainingTimeInMillis',
      'identity',
      'invokedFunctionArn',
      'logGroupName',
      'logStreamName',
      'memoryLimitInMB',
      'succeed',
      'tenantId',
    ])
    expect(response.methods).toEqual(['function', 'function', 'function', 'function'])
  })
})
