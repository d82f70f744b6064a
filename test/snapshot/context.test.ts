import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { restoreSnapshot } from '../../src/snapshot/index.js'
import { build, removeBuilds } from './helpers.js'

afterAll(removeBuilds)

const HANDLER = fileURLToPath(new URL('./fixtures/context.mjs', import.meta.url))

const CONTEXT_KEYS = [
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
]

function described(response: unknown) {
  const { keys, methods, remaining } = response as Record<string, unknown>
  return { keys, methods, remaining }
}

describe('the context of a snapshot invocation', () => {
  it('has every Context field and counts down from functionTimeoutMs', async () => {
    const built = await build({ handler: HANDLER })

    const result = await restoreSnapshot(built, { functionTimeoutMs: 7_000 })

    const restored = described(result.environments[0]!.responses[0]!.response)
    const cold = described(result.coldStart!.response!.response)
    for (const context of [restored, cold]) {
      expect(context.keys).toEqual(CONTEXT_KEYS)
      expect(context.methods).toEqual(['function', 'function', 'function', 'function'])
      expect(context.remaining).toBeGreaterThan(6_000)
      expect(context.remaining).toBeLessThanOrEqual(7_000)
    }
  })

  it('counts down from 3 000 ms when no function timeout is given', async () => {
    const built = await build({ handler: HANDLER })

    const result = await restoreSnapshot(built, { coldStart: false })

    const { remaining } = described(result.environments[0]!.responses[0]!.response)
    expect(remaining).toBeGreaterThan(2_000)
    expect(remaining).toBeLessThanOrEqual(3_000)
  })

  it('rejects a functionTimeoutMs that is not a number of milliseconds', async () => {
    await expect(restoreSnapshot('/nowhere', { functionTimeoutMs: 0 })).rejects.toThrow(
      'restoreSnapshot: "functionTimeoutMs" must be a number of milliseconds from 1 to ',
    )
  })
})
