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
  withSnapStart,
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
    const notJson = (problem: string) =>
      `primeHandler: event #${problem}; events reach a handler as JSON: use plain objects, ` +
      'arrays, strings, finite numbers, booleans and null'
    expect(() => primeHandler(handler, { events: [() => {}] })).toThrow(
      notJson('0 is not JSON data: the event is a function'),
    )
    expect(() => primeHandler(handler, { events: [{}, { id: 1n }] })).toThrow(
      notJson('1 is not JSON data: .id is a bigint'),
    )
    // What JSON.stringify would change without a word is refused too, with its path.
    expect(() => primeHandler(handler, { events: [{ tags: new Map() }] })).toThrow(
      notJson(
        '0 is not JSON data: .tags is an instance of Map, which JSON writes as a plain object',
      ),
    )
    expect(() => primeHandler(handler, { events: [{ items: [1, Number.NaN] }] })).toThrow(
      notJson('0 is not JSON data: .items[1] is NaN, which JSON writes as null'),
    )
    expect(() => primeHandler(handler, { events: [{ items: [undefined] }] })).toThrow(
      notJson('0 is not JSON data: .items[0] is undefined'),
    )
    const cycle: Record<string, unknown> = {}
    cycle.self = cycle
    expect(() => primeHandler(handler, { events: [cycle] })).toThrow(
      notJson('0 is not JSON data: .self refers back to itself'),
    )
    // A hole in the array is an event too.
    // biome-ignore lint/suspicious/noSparseArray: the hole is the case under test
    expect(() => primeHandler(handler, { events: [{}, , {}] })).toThrow(
      notJson('1 is not JSON data: the event is undefined'),
    )
    expect(() => primeHandler(handler, { events: ['x'.repeat(6_291_455)] })).toThrow(
      "primeHandler: event #0 is 6291457 bytes as JSON, over Lambda's limit of 6291456 bytes",
    )
    expect(() => primeHandler(handler, { events: [{}], times: 10_001 })).toThrow(
      'primeHandler: "times" must be at most 10000',
    )
    // A Date and an undefined property are JSON data: the Date says its own JSON form.
    expect(() =>
      primeHandler(async () => {}, { events: [{ at: new Date(0), skip: undefined }] }),
    ).not.toThrow()
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
    // A priming context stays one for its whole life, for work it leaves behind.
    expect(isPriming(seen[0]!)).toBe(true)
  })

  it('snapStart({ prime }) without a runtime fails the phase, saying what to use', async () => {
    middy7(async () => {}).use(snapStart({ prime: { events: [{}] } }))

    await expect(runBeforeSnapshot()).rejects.toThrow(
      'Outside the runtime, wrap the handler with primeHandler(handler, { events }) instead.',
    )
  })
})

describe('priming: what the review found', () => {
  it('keeps work left behind by priming from taking the first real invocation', async () => {
    const leftBehind: { event: unknown; context: Ctx }[] = []
    const seen: SnapStartContext[] = []
    const chain = middy7(async (event: unknown, context: Ctx) => {
      seen.push(context.snapStart)
      if (context.snapStart.priming) leftBehind.push({ event, context })
    }).use(snapStart())
    primeHandler(chain, { events: [{}] })
    await runBeforeSnapshot()
    await runAfterRestore()

    // A deferred flush runs the chain with the priming context, after the restore.
    await chain(leftBehind[0]!.event, leftBehind[0]!.context)
    await chain({}, realContext())

    expect(seen.map((context) => [context.priming, context.firstInvocationAfterRestore])).toEqual([
      [true, false],
      [true, false],
      [false, true],
    ])
  })

  it('gives both snapStart() of one chain the first invocation after the restore', async () => {
    const seen: boolean[] = []
    const chain = middy7(async (_event: unknown, context: Ctx) => {
      seen.push(context.snapStart.firstInvocationAfterRestore)
    })
      .use(snapStart({ metrics: false }))
      .use(snapStart())
    await runBeforeSnapshot()
    await runAfterRestore()

    await chain({}, realContext())
    await chain({}, realContext())

    expect(seen).toEqual([true, false])
  })

  it("sends a snapStart({ prime })'s events only through its own chain", async () => {
    const calls: string[] = []
    const getOrder = middy7(async (event: { id?: string }) => {
      calls.push(`getOrder ${JSON.stringify(event)}`)
    }).use(snapStart({ prime: { events: [{ id: 'warm' }] } }))
    middy7(async (event: unknown) => {
      calls.push(`createOrder ${JSON.stringify(event)}`)
    }).use(snapStart({ prime: { events: [{ sku: 'warm' }], times: 3 } }))
    provideHandler(getOrder)

    const report = await runBeforeSnapshot()

    expect(calls).toEqual(['getOrder {"id":"warm"}'])
    expect(report.hooks.map((hook) => hook.details)).toEqual([
      { invocations: 0 },
      { invocations: 1 },
    ])
  })

  it('stops at a snapStart() without prime, and warns for a chain without one', async () => {
    const calls: unknown[] = []
    const plainChain = middy7(async (event: unknown) => {
      calls.push(event)
    }).use(snapStart())
    middy7(async () => {}).use(snapStart({ prime: { events: [{ other: 1 }], times: 2 } }))
    provideHandler(plainChain)
    await runBeforeSnapshot()
    expect(calls).toEqual([])

    reset()
    const bare = async (event: unknown) => {
      calls.push(event)
    }
    middy7(async () => {}).use(snapStart({ prime: { events: [{ other: 2 }], times: 2 } }))
    provideHandler(bare)
    const report = await runBeforeSnapshot()

    expect(calls).toEqual([{ other: 2 }])
    expect(report.hooks[0]?.details).toEqual({ invocations: 1 })
    expect(logs.lines().filter((line) => line.type === 'snapstart.priming')).toEqual([
      expect.objectContaining({
        level: 'WARN',
        message: expect.stringContaining('whose chain has no snapStart(); the other events'),
      }),
    ])
  })

  it('serializes the result outside the runtime too, as the runtime does', async () => {
    primeHandler(async () => ({ id: 1n }), { events: [{}] })

    const failure = await runBeforeSnapshot().catch((error: unknown) => error)

    expect(failure).toBeInstanceOf(SnapStartPhaseError)
    expect((failure as Error).message).toBe(
      'The before-snapshot hook "prime" failed: SnapStartPrimingError: Priming event #0 ' +
        "(round 1 of 1) failed: Runtime.SerializationError: Unable to serialize the handler's " +
        'result to JSON: Do not know how to serialize a BigInt',
    )
  })

  it('sends no more events once the phase has been stopped', async () => {
    const release: (() => void)[] = []
    shared().primer = () => new Promise((resolve) => release.push(() => resolve(undefined)))
    try {
      primeHandler(async () => {}, { events: [{}], times: 5 })
      const failure = await runBeforeSnapshot({ budgetMs: 20 }).catch((error: unknown) => error)
      expect(failure).toBeInstanceOf(SnapStartPhaseError)
      expect(release).toHaveLength(1)

      release[0]!()
      for (let tick = 0; tick < 20; tick++) await Promise.resolve()

      expect(release).toHaveLength(1)
    } finally {
      delete shared().primer
    }
  })

  it('names a thrown non-Error by its type, and withSnapStart by its own name', async () => {
    primeHandler(
      async () => {
        throw 'secret value'
      },
      { events: [{}] },
    )
    const failure = await runBeforeSnapshot().catch((error: unknown) => error)
    expect((failure as Error).message).toContain(
      'Priming event #0 (round 1 of 1) failed: a thrown string, not an Error',
    )
    expect((failure as Error).message).not.toContain('secret value')

    expect(() => withSnapStart(async () => {}, { prime: { events: [1n] } })).toThrow(
      'withSnapStart: "prime": event #0 is not JSON data: the event is a bigint',
    )
  })
})

describe('priming across reset()', () => {
  it('primes again a handler and snapStart options built again after reset()', async () => {
    const calls: string[] = []
    const options = { prime: { events: [{}] } }
    const direct = async () => {
      calls.push('direct')
    }
    const build = () =>
      middy7(async () => {
        calls.push('chain')
      }).use(snapStart(options))

    for (let round = 0; round < 2; round++) {
      reset()
      primeHandler(direct, { events: [{}] })
      provideHandler(build())
      await runBeforeSnapshot()
    }

    expect(calls).toEqual(['chain', 'direct', 'chain', 'direct'])
  })
})
