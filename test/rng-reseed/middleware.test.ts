import { createRequire } from 'node:module'
import middy from '@middy/core'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  RNG_RESEED_PRIORITY,
  RngReseedError,
  registerRngReseed,
  rngReseed,
} from '../../middlewares/rng-reseed/index.js'
import {
  getAfterRestore,
  registerResource,
  reset,
  runAfterRestore,
  SnapStartPhaseError,
} from '../../src/index.js'
import { captureLogs } from '../core/helpers.js'

let logs: ReturnType<typeof captureLogs>

beforeEach(() => {
  reset()
  logs = captureLogs()
})
afterEach(() => logs.restore())

describe('options', () => {
  it('rejects an unknown option, naming it', () => {
    expect(() => rngReseed({ reseeds: [] } as never)).toThrow(
      new TypeError('rngReseed: unknown option "reseeds"; the only option is "reseed"'),
    )
  })

  it('rejects options that are not an object', () => {
    expect(() => registerRngReseed([] as never)).toThrow(
      new TypeError(
        'registerRngReseed: options must be an object such as { reseed: [resetFaker] }, got ' +
          'an array',
      ),
    )
  })

  it('rejects a reseed that is not an array', () => {
    expect(() => rngReseed({ reseed: (() => {}) as never })).toThrow(
      new TypeError('rngReseed: "reseed" must be an array of functions, got function'),
    )
  })

  it('rejects a reseed array holding something other than a function, naming its index', () => {
    expect(() => rngReseed({ reseed: [() => {}, 'faker.seed' as never] })).toThrow(
      new TypeError('rngReseed: "reseed" must be an array of functions; reseed[1] is string'),
    )
  })

  it('registers nothing when the options are bad', () => {
    expect(() => rngReseed({ reseed: [null as never] })).toThrow(TypeError)

    expect(getAfterRestore()).toEqual([])
  })
})

describe('registration', () => {
  it('registers one after-restore resource in the top tier, however often it is built', () => {
    registerResource({ name: 'pool', afterRestore() {} })
    rngReseed()
    rngReseed({ reseed: [() => {}] })
    registerRngReseed()

    const names = getAfterRestore().map((hook) => [hook.name, hook.priority])
    expect(names).toEqual([
      ['rng-reseed', RNG_RESEED_PRIORITY],
      ['pool', 0],
    ])
  })

  it('returns a middleware whose only part is an empty synchronous before', async () => {
    const middleware = rngReseed()

    expect(Object.keys(middleware)).toEqual(['before'])
    expect(middleware.before.name).toBe('rngReseedMiddlewareBefore')
    expect(middleware.before({})).toBeUndefined()
    const handler = middy(async () => 'ok').use(middleware)
    await expect(handler({}, {} as never)).resolves.toBe('ok')
  })

  it('installs the Math.random replacement once per process, across the ESM and CJS builds', () => {
    rngReseed()
    const installed = Math.random
    rngReseed()
    registerRngReseed()
    const require = createRequire(import.meta.url)
    const cjs = require('../../dist/rng-reseed.cjs') as { registerRngReseed: () => unknown }
    cjs.registerRngReseed()

    expect(Math.random).toBe(installed)
    expect(Math.random.name).toBe('random')
    expect(Object.getOwnPropertyDescriptor(Math, 'random')).toMatchObject({
      writable: true,
      enumerable: false,
      configurable: true,
    })
    expect(getAfterRestore().map((hook) => hook.name)).toEqual(['rng-reseed'])
  })
})

describe('after restore', () => {
  it('reports Math.random reseeded, 128 ids spent, each reseed function called', async () => {
    const calls: string[] = []
    rngReseed({ reseed: [() => void calls.push('a')] })
    const resetFaker = async () => {
      calls.push('b')
    }
    rngReseed({ reseed: [resetFaker] })
    registerRngReseed({ reseed: [resetFaker] })

    const report = await runAfterRestore()

    expect(calls).toEqual(['a', 'b'])
    expect(report.hooks).toEqual([
      {
        name: 'rng-reseed',
        status: 'ok',
        durationMs: expect.any(Number),
        details: { mathRandom: 'reseeded', uuidIdsSpent: 128, reseedFunctions: 2 },
      },
    ])
  })

  it('reseeds again on each restore: the functions run once per phase', async () => {
    let calls = 0
    const countReseeds = () => {
      calls++
    }
    rngReseed({ reseed: [countReseeds] })
    await runAfterRestore()
    reset()
    rngReseed({ reseed: [countReseeds] })
    await runAfterRestore()

    expect(calls).toBe(2)
  })

  it('unregistering one registration takes back only the functions it added', async () => {
    const calls: string[] = []
    const shared = () => void calls.push('shared')
    const first = registerRngReseed({ reseed: [() => void calls.push('first'), shared] })
    registerRngReseed({ reseed: [shared, () => void calls.push('second')] })

    first.unregister()
    first.unregister()
    const report = await runAfterRestore()

    expect(calls).toEqual(['shared', 'second'])
    expect(report.hooks[0]!.details).toMatchObject({ reseedFunctions: 2 })
  })

  it('keeps the hook while one registration remains, and drops it with the last', () => {
    const first = registerRngReseed()
    const second = registerRngReseed({ reseed: [() => {}] })

    first.unregister()
    expect(getAfterRestore().map((hook) => hook.name)).toEqual(['rng-reseed'])

    second.unregister()
    expect(getAfterRestore()).toEqual([])
  })

  it('forgets the reseed functions of a previous lifecycle after reset()', async () => {
    let stale = 0
    rngReseed({ reseed: [() => void stale++] })
    reset()
    rngReseed()

    await runAfterRestore()

    expect(stale).toBe(0)
  })

  it('a throwing reseed function fails the phase, naming the function', async () => {
    const cause = new Error('faker is gone')
    let after = 0
    rngReseed({
      reseed: [
        function resetFaker() {
          throw cause
        },
        () => void after++,
      ],
    })

    const error = await runAfterRestore().catch((caught: unknown) => caught)

    expect(error).toBeInstanceOf(SnapStartPhaseError)
    const phaseError = error as SnapStartPhaseError
    expect(phaseError.message).toBe(
      'The after-restore hook "rng-reseed" failed: RngReseedError: rngReseed: reseed ' +
        'function "resetFaker" failed: Error: faker is gone',
    )
    expect(phaseError.hook).toBe('rng-reseed')
    expect(phaseError.cause).toBeInstanceOf(RngReseedError)
    expect((phaseError.cause as RngReseedError).reseed).toBe('resetFaker')
    expect((phaseError.cause as RngReseedError).cause).toBe(cause)
    expect(after).toBe(0)
  })

  it('a rejecting anonymous reseed function is named by its position', async () => {
    rngReseed({ reseed: [() => {}, async () => Promise.reject(new RangeError('no seed'))] })

    const error = (await runAfterRestore().catch((caught: unknown) => caught)) as Error

    expect(error.message).toBe(
      'The after-restore hook "rng-reseed" failed: RngReseedError: rngReseed: reseed ' +
        'function "#1 (anonymous)" failed: RangeError: no seed',
    )
  })

  it('leaves a Math.random that other code installed later alone, and warns once', async () => {
    rngReseed()
    const installed = Math.random
    const deterministic = () => 0.5
    Math.random = deterministic
    try {
      const first = await runAfterRestore()
      reset()
      rngReseed()
      await runAfterRestore()

      expect(first.hooks[0]!.details).toMatchObject({ mathRandom: 'replaced-by-other-code' })
      expect(Math.random).toBe(deterministic)
      const warnings = logs
        .lines()
        .filter((line) => String(line.type).startsWith('snapstart.rngReseed'))
      expect(warnings).toEqual([
        expect.objectContaining({
          level: 'WARN',
          type: 'snapstart.rngReseed.mathRandomReplaced',
        }),
      ])
    } finally {
      Math.random = installed
    }
  })
})

describe('the Math.random replacement', () => {
  it('returns doubles in [0, 1) with 53 random bits, spread evenly over 16 buckets', () => {
    rngReseed()
    const draws = 160_000
    const buckets = new Array<number>(16).fill(0)
    let outOfRange = 0
    let onCoarseGrid = 0
    for (let i = 0; i < draws; i++) {
      const value = Math.random()
      if (!(value >= 0 && value < 1)) outOfRange++
      buckets[Math.floor(value * 16)]!++
      if (Number.isInteger(value * 2 ** 32)) onCoarseGrid++
    }

    const expected = draws / 16
    const chiSquare = buckets.reduce((sum, count) => sum + (count - expected) ** 2 / expected, 0)
    // 15 degrees of freedom: above 52 happens by chance with probability below 1e-6.
    expect(outOfRange).toBe(0)
    expect(chiSquare).toBeLessThan(52)
    // With 53 bits, a value on the 2^-32 grid happens once in 2^21 draws.
    expect(onCoarseGrid).toBeLessThan(5)
  })
})
