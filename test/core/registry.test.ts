import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  getAfterRestore,
  getBeforeSnapshot,
  registerAfterRestore,
  registerBeforeSnapshot,
  registerResource,
  reset,
  runAfterRestore,
  runBeforeSnapshot,
  SnapStartPhaseError,
  SnapStartTimeoutError,
} from '../../src/index.js'
import { captureLogs } from './helpers.js'

let logs: ReturnType<typeof captureLogs>

beforeEach(() => {
  reset()
  logs = captureLogs()
})
afterEach(() => logs.restore())

describe('registration', () => {
  it('returns the hook itself, so registration works as a decorator', () => {
    function close() {}
    async function reopen() {}

    expect(registerBeforeSnapshot(close)).toBe(close)
    expect(registerAfterRestore(reopen)).toBe(reopen)
  })

  it('passes the registration arguments to the hook', async () => {
    const calls: unknown[][] = []
    const hook = (...args: unknown[]) => {
      calls.push(args)
    }
    registerBeforeSnapshot(hook, 'pool', 3)
    registerAfterRestore(hook, { url: 'x' })

    await runBeforeSnapshot()
    await runAfterRestore()

    expect(calls).toEqual([['pool', 3], [{ url: 'x' }]])
  })

  it('lists hooks read-only in run order, with function names or stable fallbacks', () => {
    function first() {}
    registerAfterRestore(first)
    registerAfterRestore(() => {})
    registerAfterRestore(async function third() {})

    const list = getAfterRestore()

    expect(list.map((hook) => hook.name)).toEqual(['first', 'anonymous#2', 'third'])
    expect(Object.isFrozen(list[0])).toBe(true)
    expect(() => (list as unknown[]).push(1)).toThrow(TypeError)
    expect(getAfterRestore()).toHaveLength(3)
  })

  it('rejects a hook that is not a function, naming the function called', () => {
    expect(() => registerBeforeSnapshot('close' as never)).toThrow(
      'registerBeforeSnapshot expects a function as its first argument, got string',
    )
    expect(() => registerAfterRestore(undefined as never)).toThrow(
      'registerAfterRestore expects a function as its first argument, got undefined',
    )
  })

  it('rejects bad resource options with the option named', () => {
    expect(() => registerResource({ name: '' })).toThrow('"name" must be a non-empty string')
    expect(() => registerResource({ name: 'db' })).toThrow(
      'registerResource "db": give beforeSnapshot, afterRestore or both',
    )
    expect(() =>
      registerResource({ name: 'db', afterRestore: () => {}, priority: Number.NaN }),
    ).toThrow('"priority" must be a finite number')
    expect(() =>
      registerResource({ name: 'db', afterRestore: () => {}, prio: 1 } as never),
    ).toThrow('registerResource: unknown option "prio"')
    expect(() => registerResource({ name: 'db', beforeSnapshot: 'x' as never })).toThrow(
      '"beforeSnapshot" must be a function, got string',
    )
  })

  it('removes both halves of a resource on unregister, and tolerates a second call', () => {
    const handle = registerResource({ name: 'db', beforeSnapshot() {}, afterRestore() {} })
    registerAfterRestore(function other() {})

    handle.unregister()
    handle.unregister()

    expect(getBeforeSnapshot()).toEqual([])
    expect(getAfterRestore().map((hook) => hook.name)).toEqual(['other'])
  })
})

describe('C01 order', () => {
  it('runs before-snapshot in reverse order and after-restore in registration order', async () => {
    const ran: string[] = []
    for (const name of ['A', 'B', 'C']) {
      registerResource({
        name,
        beforeSnapshot: () => void ran.push(`before ${name}`),
        afterRestore: () => void ran.push(`after ${name}`),
      })
    }

    const before = await runBeforeSnapshot()
    const after = await runAfterRestore()

    expect(ran).toEqual(['before C', 'before B', 'before A', 'after A', 'after B', 'after C'])
    expect(before.hooks.map((hook) => hook.name)).toEqual(['C', 'B', 'A'])
    expect(after.hooks.map((hook) => hook.name)).toEqual(['A', 'B', 'C'])
  })

  it('orders plain hooks the same way, interleaved with resources by registration', async () => {
    const ran: string[] = []
    registerBeforeSnapshot(function one() {
      ran.push('one')
    })
    registerResource({ name: 'two', beforeSnapshot: () => void ran.push('two') })
    registerBeforeSnapshot(function three() {
      ran.push('three')
    })

    await runBeforeSnapshot()

    expect(ran).toEqual(['three', 'two', 'one'])
  })

  it('runs a higher priority tier first after restore and last before the snapshot', async () => {
    const ran: string[] = []
    const track = (name: string, priority?: number) =>
      registerResource({
        name,
        priority,
        beforeSnapshot: () => void ran.push(`before ${name}`),
        afterRestore: () => void ran.push(`after ${name}`),
      })
    track('A')
    track('B')
    track('reseed', 100)
    track('C')
    track('late-low', -5)

    expect(getAfterRestore().map((hook) => hook.name)).toEqual([
      'reseed',
      'A',
      'B',
      'C',
      'late-low',
    ])
    expect(getBeforeSnapshot().map((hook) => hook.name)).toEqual([
      'late-low',
      'C',
      'B',
      'A',
      'reseed',
    ])

    await runBeforeSnapshot()
    await runAfterRestore()

    expect(ran).toEqual([
      'before late-low',
      'before C',
      'before B',
      'before A',
      'before reseed',
      'after reseed',
      'after A',
      'after B',
      'after C',
      'after late-low',
    ])
  })
})

describe('C02 same function twice', () => {
  it('registers one function with the same arguments once per phase', async () => {
    let runs = 0
    function reconnect() {
      runs++
    }
    registerAfterRestore(reconnect)
    registerAfterRestore(reconnect)
    registerAfterRestore(reconnect, 'replica')

    expect(getAfterRestore().map((hook) => [hook.name, hook.args])).toEqual([
      ['reconnect', []],
      ['reconnect#2', ['replica']],
    ])
    await runAfterRestore()
    expect(runs).toBe(2)
  })

  it('names the same function with other arguments name#2, name#3 in reports, errors', async () => {
    function reconnect(target: string) {
      if (target === 'c') throw new Error(`${target} is down`)
    }
    registerAfterRestore(reconnect, 'a')
    registerAfterRestore(reconnect, 'b')
    registerAfterRestore(reconnect, 'c')
    registerBeforeSnapshot(reconnect, 'a')
    registerAfterRestore(() => {})

    expect(getBeforeSnapshot().map((hook) => hook.name)).toEqual(['reconnect'])
    const error = await runAfterRestore().catch((caught: unknown) => caught)

    expect(error).toBeInstanceOf(SnapStartPhaseError)
    expect((error as SnapStartPhaseError).message).toBe(
      'The after-restore hook "reconnect#3" failed: Error: c is down',
    )
    expect((error as SnapStartPhaseError).hook).toBe('reconnect#3')
    expect(
      (error as SnapStartPhaseError).report.hooks.map(({ name, status }) => [name, status]),
    ).toEqual([
      ['reconnect', 'ok'],
      ['reconnect#2', 'ok'],
      ['reconnect#3', 'failed'],
      ['anonymous#5', 'skipped'],
    ])
  })

  it('registers the same resource (name and functions) once, with one handle per call', () => {
    const options = { name: 'db', beforeSnapshot() {}, afterRestore() {} }

    const first = registerResource(options)
    const second = registerResource({ ...options })

    expect(second.name).toBe(first.name)
    expect(second).not.toBe(first)
    expect(getBeforeSnapshot()).toHaveLength(1)
    expect(getAfterRestore()).toHaveLength(1)
  })

  it('keeps a shared resource until every handle has unregistered, each counted once', () => {
    const options = { name: 'db', beforeSnapshot() {}, afterRestore() {} }
    const first = registerResource(options)
    const second = registerResource(options)
    const third = registerResource(options)

    first.unregister()
    first.unregister()
    first.unregister()

    expect(getAfterRestore().map((hook) => hook.name)).toEqual(['db'])
    expect([first.registered, second.registered, third.registered]).toEqual([false, true, true])

    second.unregister()
    expect(getBeforeSnapshot().map((hook) => hook.name)).toEqual(['db'])

    third.unregister()
    expect(getBeforeSnapshot()).toEqual([])
    expect(getAfterRestore()).toEqual([])
    expect(third.registered).toBe(false)
  })

  it('a handle reads registered false after reset() and for a late registration', async () => {
    const handle = registerResource({ name: 'db', afterRestore() {} })
    reset()
    await runAfterRestore()
    const late = registerResource({ name: 'late', afterRestore() {} })

    expect(handle.registered).toBe(false)
    expect(late.registered).toBe(false)
  })
})

describe('reports', () => {
  it('reports each hook with a sub-millisecond monotonic duration and status', async () => {
    registerAfterRestore(async function wait() {
      await new Promise((resolve) => setTimeout(resolve, 5))
    })
    registerAfterRestore(function instant() {})
    registerResource({ name: 'pool', afterRestore: () => ({ opened: 3 }) })

    const report = await runAfterRestore({ budgetMs: 1000 })

    expect(report.phase).toBe('afterRestore')
    expect(report.status).toBe('ok')
    expect(report.budgetMs).toBe(1000)
    expect(Number.isNaN(Date.parse(report.startedAt))).toBe(false)
    expect(report.hooks.map(({ name, status }) => [name, status])).toEqual([
      ['wait', 'ok'],
      ['instant', 'ok'],
      ['pool', 'ok'],
    ])
    expect(report.hooks[0]!.durationMs).toBeGreaterThanOrEqual(4)
    expect(Number.isInteger(report.hooks[1]!.durationMs)).toBe(false)
    expect(report.hooks[2]!.details).toEqual({ opened: 3 })
    expect(report.durationMs).toBeGreaterThanOrEqual(report.hooks[0]!.durationMs)
  })

  it.each([
    ['longer than Node timers keep', 3e9],
    ['zero', 0],
    ['under 1 ms', 0.5],
    ['infinite', Number.POSITIVE_INFINITY],
    ['NaN', Number.NaN],
    ['a string', '5'],
  ])('rejects a budget %s, naming the option and the range', (_label, budgetMs) => {
    expect(() => runAfterRestore({ budgetMs: budgetMs as number })).toThrow(
      new TypeError(
        'run afterRestore: "budgetMs" must be a number of milliseconds from 1 to 2147483647',
      ),
    )
    expect(() => runBeforeSnapshot({ budgetMs: budgetMs as number })).toThrow(
      new TypeError(
        'run beforeSnapshot: "budgetMs" must be a number of milliseconds from 1 to 2147483647',
      ),
    )
    expect(getAfterRestore()).toEqual([])
  })

  it('runs under the longest budget Node timers keep, with no TimeoutOverflowWarning', async () => {
    const warnings: string[] = []
    const onWarning = (warning: Error) => warnings.push(warning.name)
    process.on('warning', onWarning)
    registerAfterRestore(async function settles() {
      await new Promise((resolve) => setImmediate(resolve))
    })

    const report = await runAfterRestore({ budgetMs: 2_147_483_647 })
    await new Promise((resolve) => setImmediate(resolve))
    process.off('warning', onWarning)

    expect(report.status).toBe('ok')
    expect(report.budgetMs).toBe(2_147_483_647)
    expect(warnings).toEqual([])
  })

  it('holds whole-ms budgets in the report, the hook context and the timeout error', async () => {
    const budgets: number[] = []
    registerResource({
      name: 'pool',
      afterRestore: (phase) => {
        budgets.push(phase.budgetMs)
      },
    })

    const report = await runAfterRestore({ budgetMs: 1234.56 })
    registerResource({
      name: 'stuck',
      beforeSnapshot: () => new Promise(() => {}),
    })
    const error = await runBeforeSnapshot({ budgetMs: 5.9 }).catch((caught: unknown) => caught)

    expect(report.budgetMs).toBe(1234)
    expect(budgets).toEqual([1234])
    expect(error).toBeInstanceOf(SnapStartTimeoutError)
    expect((error as SnapStartTimeoutError).budgetMs).toBe(5)
    expect((error as SnapStartTimeoutError).report.budgetMs).toBe(5)
    expect((error as SnapStartTimeoutError).message).toMatch(
      /^The before-snapshot phase ran over its 5 ms budget after \d+ ms, while hook "stuck" /,
    )
    expect(Number.isInteger(report.durationMs)).toBe(false)
  })

  it('keeps only numbers and booleans of what a resource returns, in report and log', async () => {
    registerResource({
      name: 'db',
      afterRestore: () => ({
        opened: 2,
        ok: true,
        password: 'hunter2',
        mode: 'eager',
        nested: { token: 'hunter2' },
        list: ['hunter2'],
        nothing: null,
        infinite: Number.POSITIVE_INFINITY,
      }),
    })
    registerResource({ name: 'vault', afterRestore: () => ({ password: 'hunter2' }) })

    const report = await runAfterRestore()

    expect(report.hooks.map(({ name, details }) => ({ name, details }))).toEqual([
      { name: 'db', details: { opened: 2, ok: true } },
      { name: 'vault', details: undefined },
    ])
    expect('details' in report.hooks[1]!).toBe(false)
    const phaseLine = logs.lines().find((line) => line.type === 'snapstart.phase')
    expect((phaseLine!.hooks as Record<string, unknown>[]).map((hook) => hook.details)).toEqual([
      { opened: 2, ok: true },
      undefined,
    ])
    expect(JSON.stringify(logs.lines())).not.toContain('hunter2')
    expect(JSON.stringify(report)).not.toContain('hunter2')
  })

  it('logs one JSON line per phase with hook durations, nothing the hooks return', async () => {
    registerResource({ name: 'secrets', afterRestore: () => ({ count: 1 }) })
    registerAfterRestore(function load() {
      return 'hunter2'
    })

    await runAfterRestore()

    const phaseLines = logs.lines().filter((line) => line.type === 'snapstart.phase')
    expect(phaseLines).toHaveLength(1)
    expect(phaseLines[0]).toMatchObject({
      level: 'INFO',
      phase: 'afterRestore',
      status: 'ok',
      hooks: [
        { name: 'secrets', status: 'ok', details: { count: 1 } },
        { name: 'load', status: 'ok' },
      ],
    })
    expect(typeof phaseLines[0]!.timestamp).toBe('string')
    expect(JSON.stringify(logs.lines())).not.toContain('hunter2')
  })
})
