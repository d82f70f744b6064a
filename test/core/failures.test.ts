import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import {
  configure,
  getAfterRestore,
  getLastError,
  getLastReport,
  getState,
  registerAfterRestore,
  registerBeforeSnapshot,
  registerResource,
  reset,
  runAfterRestore,
  runBeforeSnapshot,
  SnapStartLateRegistrationError,
  SnapStartPhaseError,
  SnapStartStateError,
  SnapStartTimeoutError,
} from '../../src/index.js'
import type { PhaseContext } from '../../src/types.js'
import { captureLogs, deferred, watchUnhandled } from './helpers.js'

let logs: ReturnType<typeof captureLogs>

beforeEach(() => {
  reset()
  logs = captureLogs()
})
afterEach(() => {
  vi.useRealTimers()
  logs.restore()
  delete process.env.AWS_LAMBDA_INITIALIZATION_TYPE
})

describe('C03 late registration', () => {
  it('warns once naming a hook registered after its phase ran, and does not keep it', async () => {
    await runBeforeSnapshot()
    await runAfterRestore()
    function lateReconnect() {}

    registerAfterRestore(lateReconnect)
    registerAfterRestore(lateReconnect, 'again')

    const warnings = logs.lines().filter((line) => line.type === 'snapstart.lateRegistration')
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toMatchObject({
      level: 'WARN',
      phase: 'afterRestore',
      hook: 'lateReconnect',
    })
    expect(String(warnings[0]!.message)).toContain('"lateReconnect"')
    expect(getAfterRestore()).toEqual([])
  })

  it('counts a registration made while the phase is running as late', async () => {
    registerAfterRestore(function registersAnother() {
      registerAfterRestore(function tooLate() {})
    })

    const report = await runAfterRestore()

    expect(report.hooks.map((hook) => hook.name)).toEqual(['registersAnother'])
    const warnings = logs.lines().filter((line) => line.type === 'snapstart.lateRegistration')
    expect(warnings.map((line) => line.hook)).toEqual(['tooLate'])
  })

  it('throws SnapStartLateRegistrationError in strict mode', async () => {
    configure({ strict: true })
    await runBeforeSnapshot()

    const late = () => registerBeforeSnapshot(function lateClose() {})

    expect(late).toThrow(SnapStartLateRegistrationError)
    expect(late).toThrow('Hook "lateClose" was registered for beforeSnapshot after that phase')
  })

  it('does not warn for a phase that has not run (after-restore before any restore)', async () => {
    await runBeforeSnapshot()

    registerAfterRestore(function fine() {})

    expect(logs.lines().filter((line) => line.type === 'snapstart.lateRegistration')).toEqual([])
  })

  it('rejects unknown configure options', () => {
    expect(() => configure({ strcit: true } as never)).toThrow('configure: unknown option "strcit"')
    expect(() => configure({ strict: 'yes' } as never)).toThrow('"strict" must be a boolean')
  })
})

describe('C04 failure part-way through before-snapshot', () => {
  it('stops at the failing hook, skips the rest and rolls back what completed', async () => {
    const ran: string[] = []
    const original = new Error('drain failed')
    registerResource({
      name: 'A',
      beforeSnapshot: () => void ran.push('before A'),
      afterRestore: () => void ran.push('after A'),
    })
    registerResource({
      name: 'B',
      beforeSnapshot: () => {
        ran.push('before B')
        throw original
      },
      afterRestore: () => void ran.push('after B'),
    })
    registerResource({
      name: 'C',
      beforeSnapshot: () => void ran.push('before C'),
      afterRestore: () => void ran.push('after C'),
    })

    const error = await runBeforeSnapshot().catch((caught: unknown) => caught)

    expect(error).toBeInstanceOf(SnapStartPhaseError)
    const phaseError = error as SnapStartPhaseError
    expect(phaseError.message).toBe('The before-snapshot hook "B" failed: Error: drain failed')
    expect(phaseError.hook).toBe('B')
    expect(phaseError.cause).toBe(original)
    expect(ran).toEqual(['before C', 'before B', 'after C'])
    expect(phaseError.report.status).toBe('failed')
    expect(phaseError.report.hooks.map(({ name, status }) => [name, status])).toEqual([
      ['C', 'ok'],
      ['B', 'failed'],
      ['A', 'skipped'],
    ])
    expect(phaseError.report.hooks[1]!.error).toEqual({ name: 'Error', message: 'drain failed' })
    expect(phaseError.report.rollback?.map(({ name, status }) => [name, status])).toEqual([
      ['C', 'ok'],
    ])
    expect(getLastReport('beforeSnapshot')).toBe(phaseError.report)
    expect(getState()).toBe('failed')
    expect(getLastError()).toBe(phaseError)
  })

  it('gives the whole rollback one 10 000 ms deadline, aborting its signal then', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] })
    const remaining: number[] = []
    const signals: AbortSignal[] = []
    const undo = (ms: number | undefined) => (phase: PhaseContext) => {
      remaining.push(phase.remainingMs())
      signals.push(phase.signal)
      return ms === undefined ? new Promise(() => {}) : new Promise((r) => setTimeout(r, ms))
    }
    registerResource({
      name: 'fails',
      beforeSnapshot: () => {
        throw new Error('drain failed')
      },
    })
    registerResource({ name: 'A', beforeSnapshot() {}, afterRestore: undo(4_000) })
    registerResource({ name: 'B', beforeSnapshot() {}, afterRestore: undo(undefined) })
    registerResource({ name: 'C', beforeSnapshot() {}, afterRestore: undo(undefined) })

    let settled = false
    const failing = runBeforeSnapshot().catch((caught: unknown) => {
      settled = true
      return caught as SnapStartPhaseError
    })
    await vi.advanceTimersByTimeAsync(10_000)
    const finished = settled
    await vi.advanceTimersByTimeAsync(20_000)
    vi.useRealTimers()
    const error = (await failing) as SnapStartPhaseError

    expect(finished).toBe(true)
    expect(remaining).toEqual([10_000, 6_000])
    expect(error.report.rollback?.map(({ name, status }) => [name, status])).toEqual([
      ['A', 'ok'],
      ['B', 'timed-out'],
      ['C', 'skipped'],
    ])
    expect(signals[1]).toBe(signals[0])
    expect(signals[1]!.aborted).toBe(true)
    expect(signals[1]!.reason).toEqual(new Error('rollback ran out of its budget'))
  })

  it('reports a hook that throws a non-Error value without losing it', async () => {
    registerBeforeSnapshot(function throwsString() {
      throw 'nope'
    })

    const error = (await runBeforeSnapshot().catch((e: unknown) => e)) as SnapStartPhaseError

    expect(error.cause).toBe('nope')
    expect(error.report.hooks[0]!.error).toEqual({
      name: 'NonError',
      message: 'a hook threw a non-Error value (string)',
    })
  })
})

describe('C05 async hook errors', () => {
  it('rejects naming the hook, with zero unhandled rejections', async () => {
    const unhandled = watchUnhandled()
    registerAfterRestore(async function fetchSecret() {
      await new Promise((resolve) => setTimeout(resolve, 10))
      throw new Error('secret fetch failed')
    })

    const error = (await runAfterRestore().catch((e: unknown) => e)) as SnapStartPhaseError

    expect(error.message).toBe(
      'The after-restore hook "fetchSecret" failed: Error: secret fetch failed',
    )
    expect(getState()).toBe('failed')
    expect(await unhandled.stop()).toEqual([])
  })

  it('catches a synchronous throw from a hook', async () => {
    const unhandled = watchUnhandled()
    registerAfterRestore(function explode() {
      throw new TypeError('bad config')
    })

    await expect(runAfterRestore()).rejects.toThrow(
      'The after-restore hook "explode" failed: TypeError: bad config',
    )
    expect(await unhandled.stop()).toEqual([])
  })

  it('refuses to start a phase while another runs', async () => {
    const gate = deferred()
    registerAfterRestore(() => gate.promise)
    const running = runAfterRestore()

    await expect(runBeforeSnapshot()).rejects.toThrow(SnapStartStateError)

    gate.resolve()
    await running
  })
})

describe('C06 time budget', () => {
  it('rejects near the budget naming the running hook; earlier ok, later skipped', async () => {
    const unhandled = watchUnhandled()
    const ran: string[] = []
    registerAfterRestore(function reseed() {
      ran.push('reseed')
    })
    registerAfterRestore(function prime() {
      return new Promise(() => {})
    })
    registerAfterRestore(function reconnect() {
      ran.push('reconnect')
    })

    const error = await runAfterRestore({ budgetMs: 200 }).catch((e: unknown) => e)

    expect(error).toBeInstanceOf(SnapStartTimeoutError)
    const timeout = error as SnapStartTimeoutError
    expect(timeout.hook).toBe('prime')
    expect(timeout.budgetMs).toBe(200)
    expect(timeout.elapsedMs).toBeGreaterThanOrEqual(199)
    expect(timeout.elapsedMs).toBeLessThan(1000)
    expect(timeout.message).toMatch(
      /^The after-restore phase ran over its 200 ms budget after \d+ ms, while hook "prime"/,
    )
    expect(ran).toEqual(['reseed'])
    expect(timeout.report.status).toBe('timed-out')
    expect(timeout.report.hooks.map(({ name, status }) => [name, status])).toEqual([
      ['reseed', 'ok'],
      ['prime', 'timed-out'],
      ['reconnect', 'skipped'],
    ])
    expect(await unhandled.stop()).toEqual([])
  })

  it('swallows a rejection that arrives after the phase timed out', async () => {
    const unhandled = watchUnhandled()
    const late = deferred()
    registerAfterRestore(function slow() {
      return late.promise
    })

    await expect(runAfterRestore({ budgetMs: 20 })).rejects.toThrow(SnapStartTimeoutError)
    late.reject(new Error('too late'))

    expect(await unhandled.stop()).toEqual([])
  })

  it('times out a synchronous hook that overruns the budget once it returns', async () => {
    registerBeforeSnapshot(function busy() {
      const end = performance.now() + 30
      while (performance.now() < end) {}
    })

    const error = (await runBeforeSnapshot({ budgetMs: 10 }).catch(
      (e: unknown) => e,
    )) as SnapStartTimeoutError

    expect(error).toBeInstanceOf(SnapStartTimeoutError)
    expect(error.hook).toBe('busy')
    expect(error.report.hooks[0]!.status).toBe('timed-out')
  })

  it('aborts the phase signal given to resources when the budget runs out', async () => {
    let signal: AbortSignal | undefined
    registerResource({
      name: 'pool',
      afterRestore: (phase) => {
        signal = phase.signal
        return new Promise(() => {})
      },
    })

    await expect(runAfterRestore({ budgetMs: 20 })).rejects.toThrow(SnapStartTimeoutError)

    expect(signal?.aborted).toBe(true)
  })
})

describe('C07 no silent success', () => {
  it.each([['snap-start'], ['on-demand'], ['provisioned-concurrency'], [undefined]])(
    'fails a throwing hook when AWS_LAMBDA_INITIALIZATION_TYPE is %s',
    async (type) => {
      if (type !== undefined) process.env.AWS_LAMBDA_INITIALIZATION_TYPE = type
      registerBeforeSnapshot(function broken() {
        throw new Error('broken')
      })
      registerAfterRestore(function brokenToo() {
        throw new Error('broken too')
      })

      await expect(runBeforeSnapshot()).rejects.toThrow('hook "broken" failed')
      reset()
      registerAfterRestore(function brokenToo() {
        throw new Error('broken too')
      })
      await expect(runAfterRestore()).rejects.toThrow('hook "brokenToo" failed')
    },
  )
})
