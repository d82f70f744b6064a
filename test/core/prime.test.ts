import middy7 from '@middy/core'
import type { Context } from 'aws-lambda'
import middy6 from 'middy6'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { poolReset } from '../../middlewares/pool-reset/index.js'
import { isPriming } from '../../middlewares/prime.js'
import { secretRefresh } from '../../middlewares/secret-refresh/index.js'
import {
  getBeforeSnapshot,
  primeHandler,
  registerResource,
  reset,
  runAfterRestore,
  runBeforeSnapshot,
  type SnapStartContext,
  SnapStartPhaseError,
  SnapStartPrimingError,
  snapStart,
} from '../../src/index.js'
import { provideHandler } from '../../src/lifecycle.js'
import { shared } from '../../src/state.js'
import { captureLogs } from './helpers.js'

type Ctx = Context & { snapStart: SnapStartContext }
const realContext = () => ({ awsRequestId: 'real-1' }) as Ctx

let logs: ReturnType<typeof captureLogs>

beforeEach(() => {
  reset()
  logs = captureLogs()
})
afterEach(() => logs.restore())

describe.each([
  ['@middy/core 7', middy7 as unknown as typeof middy7],
  ['@middy/core 6', middy6 as unknown as typeof middy7],
])('priming with %s', (_label, middy) => {
  it('primes a chain whose middleware requires a request id, with a full context', async () => {
    const seen: Ctx[] = []
    const requireRequestId = {
      before: (request: { context: Ctx }) => {
        if (!request.context.awsRequestId) throw new Error('awsRequestId missing')
      },
    }
    const handler = primeHandler(
      middy(async (_event: unknown, context: Ctx) => {
        seen.push(context)
        return 'ok'
      })
        .use(requireRequestId)
        .use(snapStart()),
      { events: [{ path: '/a' }, { path: '/b' }], times: 2 },
    )

    const report = await runBeforeSnapshot()

    expect(report.hooks).toEqual([
      { name: 'prime', durationMs: expect.any(Number), status: 'ok', details: { invocations: 4 } },
    ])
    expect(new Set(seen.map((context) => context.awsRequestId)).size).toBe(4)
    const context = seen[0]!
    expect(context.snapStart).toEqual({
      initializationType: 'on-demand',
      restored: false,
      firstInvocationAfterRestore: false,
      priming: true,
    })
    expect(context.getRemainingTimeInMillis()).toBeGreaterThan(100_000)
    for (const field of [
      'functionName',
      'functionVersion',
      'invokedFunctionArn',
      'memoryLimitInMB',
      'logGroupName',
      'logStreamName',
    ] as const) {
      expect(typeof context[field]).toBe('string')
    }
    expect(context.callbackWaitsForEmptyEventLoop).toBe(true)
    // Priming is marked outside the object, so it has the shape of a real context.
    expect(Object.getOwnPropertySymbols(context)).toEqual([])
    expect(typeof handler).toBe('function')
  })

  it('leaves nothing for the first real invocation: a skipped counter reads 0', async () => {
    let counted = 0
    const startValues: number[] = []
    const internals: unknown[] = []
    const handler = primeHandler(
      middy(async (_event: unknown, context: Ctx) => {
        startValues.push(counted)
        if (!context.snapStart.priming) counted++
      })
        .use({
          before: (request: { internal: Record<string, unknown>; context: Ctx }) => {
            internals.push({ ...request.internal })
            if (request.context.snapStart?.priming !== false) request.internal.primed = true
          },
        })
        .use(snapStart()),
      { events: [{}], times: 3 },
    )
    await runBeforeSnapshot()
    await runAfterRestore()

    await handler({}, realContext())

    expect(startValues).toEqual([0, 0, 0, 0])
    expect(internals.at(-1)).toEqual({})
    expect(counted).toBe(1)
  })
})

describe('priming failures', () => {
  it('fails the before-snapshot phase naming the event and the round', async () => {
    primeHandler(
      async (event: { fail?: boolean }) => {
        if (event.fail) throw new Error('cannot handle it')
      },
      { events: [{}, { fail: true }], times: 2 },
    )

    const error = (await runBeforeSnapshot().catch((e: unknown) => e)) as SnapStartPhaseError

    expect(error).toBeInstanceOf(SnapStartPhaseError)
    expect(error.message).toBe(
      'The before-snapshot hook "prime" failed: SnapStartPrimingError: Priming event #1 ' +
        '(round 1 of 2) failed: Error: cannot handle it',
    )
    expect(error.cause).toBeInstanceOf(SnapStartPrimingError)
    expect((error.cause as SnapStartPrimingError).event).toBe(1)
  })

  it('with optional, warns naming the event and goes on', async () => {
    primeHandler(
      async (event: { fail?: boolean }) => {
        if (event.fail) throw new Error('cannot handle it')
      },
      { events: [{ fail: true }, {}], optional: true },
    )

    const report = await runBeforeSnapshot()

    expect(report.status).toBe('ok')
    expect(report.hooks[0]!.details).toEqual({ invocations: 2 })
    const warnings = logs.lines().filter((line) => line.type === 'snapstart.priming')
    expect(warnings).toEqual([
      expect.objectContaining({
        level: 'WARN',
        event: 0,
        round: 1,
        message: 'Priming event #0 (round 1 of 1) failed: Error: cannot handle it',
      }),
    ])
  })

  it('gives the priming context whole milliseconds in getRemainingTimeInMillis()', async () => {
    const remaining: number[] = []
    primeHandler(
      async (_event: unknown, context: Context) => {
        remaining.push(context.getRemainingTimeInMillis())
      },
      { events: [{}] },
    )

    await runBeforeSnapshot({ budgetMs: 60_000.75 })

    expect(remaining).toHaveLength(1)
    expect(Number.isInteger(remaining[0])).toBe(true)
    expect(remaining[0]).toBeGreaterThan(59_000)
    expect(remaining[0]).toBeLessThanOrEqual(60_000)
  })

  it('primes callback-style handlers too', async () => {
    const events: unknown[] = []
    primeHandler(
      (event: unknown, _context: unknown, callback: (error: unknown, value: unknown) => void) => {
        events.push(event)
        callback(null, 'done')
      },
      { events: [{ n: 1 }] },
    )

    await runBeforeSnapshot()

    expect(events).toEqual([{ n: 1 }])
  })

  it('ends a priming invocation with context.fail(), as the runtime does', async () => {
    primeHandler(
      (_event: unknown, context: Context) => {
        context.fail(new RangeError('failed on purpose'))
      },
      { events: [{}] },
    )

    const error = await runBeforeSnapshot().catch((caught: unknown) => caught)

    expect(error).toBeInstanceOf(SnapStartPhaseError)
    expect((error as Error).message).toContain(
      'Priming event #0 (round 1 of 1) failed: RangeError: failed on purpose',
    )
  })

  it('rejects bad options at wrap time, naming the option', () => {
    const handler = async () => {}
    expect(() => primeHandler(handler, { events: [] })).toThrow(
      'primeHandler: "events" must be a non-empty array of events',
    )
    expect(() => primeHandler(handler, { events: [{}], times: 0 })).toThrow(
      '"times" must be a whole number of at least 1',
    )
    expect(() => primeHandler(handler, { events: [{}], rounds: 2 } as never)).toThrow(
      'primeHandler: unknown option "rounds"',
    )
    expect(() => primeHandler(handler, { events: [() => {}] })).toThrow(
      'primeHandler: event #0 is not JSON data (its type is function); events reach a handler ' +
        'as JSON',
    )
    expect(() => primeHandler(handler, { events: [{}, { id: 1n }] })).toThrow(
      'primeHandler: event #1 is not JSON data: TypeError: Do not know how to serialize a BigInt',
    )
    expect(() => snapStart({ prime: { events: 'x' } as never })).toThrow(
      'snapStart: "prime": "events" must be a non-empty array',
    )
  })
})

describe('priming through middlewares that wait for running phases', () => {
  it('primes a chain with poolReset() and secretRefresh() without waiting on itself', async () => {
    const closed: string[] = []
    const seen: unknown[] = []
    const handler = primeHandler(
      middy7(async (_event: unknown, context: Ctx & { apiKey?: string }) => {
        seen.push(context.apiKey)
      })
        .use(snapStart())
        .use(poolReset({ resources: [{ name: 'queue', close: () => void closed.push('q') }] }))
        .use(secretRefresh({ secrets: { apiKey: async () => 'key-1' } })),
      { events: [{}] },
    )

    const report = await runBeforeSnapshot({ budgetMs: 5000 })

    expect(report.hooks.map(({ name, status }) => [name, status])).toEqual([
      ['prime', 'ok'],
      ['secret-refresh(apiKey)', 'ok'],
      ['pool-reset:queue', 'ok'],
    ])
    expect(seen).toEqual(['key-1'])
    expect(closed).toEqual(['q'])
    expect(typeof handler).toBe('function')
  })
})

describe('ordering and the runtime handler', () => {
  it('runs priming first before the snapshot, while resources are still open', async () => {
    const ran: string[] = []
    registerResource({ name: 'pool', beforeSnapshot: () => void ran.push('close pool') })
    primeHandler(async () => void ran.push('prime'), { events: [{}] })
    registerResource({ name: 'secrets', beforeSnapshot: () => void ran.push('settle secrets') })

    await runBeforeSnapshot()

    expect(getBeforeSnapshot().map((hook) => hook.name)).toEqual(['prime', 'secrets', 'pool'])
    expect(ran).toEqual(['prime', 'settle secrets', 'close pool'])
  })

  it('snapStart({ prime }) primes the handler the runtime provided', async () => {
    const events: unknown[] = []
    const handler = middy7(async (event: unknown) => {
      events.push(event)
    }).use(snapStart({ prime: { events: [{ warm: true }] } }))
    provideHandler(handler)

    await runBeforeSnapshot()

    expect(events).toEqual([{ warm: true }])
  })

  it('calls the handler through the primer a runtime provides, with its context', async () => {
    const calls: { payload: string; requestId: string }[] = []
    const seen: Ctx[] = []
    shared().primer = async (handler, call) => {
      calls.push({ payload: call.payload, requestId: call.requestId })
      const context = { awsRequestId: call.requestId } as Ctx
      call.prepare(context)
      return (handler as (event: unknown, context: Ctx) => unknown)(
        JSON.parse(call.payload),
        context,
      )
    }
    try {
      primeHandler(
        middy7(async (_event: unknown, context: Ctx) => {
          seen.push(context)
        }).use(snapStart()),
        { events: [{ at: new Date(0) }], times: 2 },
      )
      await runBeforeSnapshot()
    } finally {
      delete shared().primer
    }

    expect(calls).toEqual([
      { payload: '{"at":"1970-01-01T00:00:00.000Z"}', requestId: expect.stringMatching(/-1$/) },
      { payload: '{"at":"1970-01-01T00:00:00.000Z"}', requestId: expect.stringMatching(/-2$/) },
    ])
    expect(seen.map((context) => context.snapStart.priming)).toEqual([true, true])
    // The marks last only while priming runs: a context kept from it is not priming later.
    expect(shared().primingContexts).toBeUndefined()
    expect(isPriming(seen[0]!)).toBe(false)
  })

  it('snapStart({ prime }) without a runtime fails the phase, saying what to use', async () => {
    middy7(async () => {}).use(snapStart({ prime: { events: [{}] } }))

    await expect(runBeforeSnapshot()).rejects.toThrow(
      'Outside the runtime, wrap the handler with primeHandler(handler, { events }) instead.',
    )
  })
})
