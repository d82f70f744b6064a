import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { EmulatorError, EmulatorStateError } from '../../src/emulator/index.js'
import { fixture, logs, start } from './helpers.js'

const RESTORE_NEXT = '/2018-06-01/runtime/restore/next'
const NEXT = '/2018-06-01/runtime/invocation/next'

describe('snap-start happy path', () => {
  it('runs init, hooks in order, freezes, restores, serves three invocations', async () => {
    const emu = await start({ handler: fixture('rt-basic', 'handler.mjs') })

    expect(emu.mode).toBe('snap-start')
    expect(emu.initDurationMs).toBeGreaterThan(0)
    expect(emu.beforeSnapshot?.status).toBe('ok')
    expect(emu.beforeSnapshot?.hooks.map((hook) => [hook.name, hook.status])).toEqual([
      ['closeSecond', 'ok'],
      ['closeFirst', 'ok'],
    ])
    expect(emu.afterRestore).toBeUndefined()
    expect(await stateOf(emu.pid!, 'T')).toBe('T')

    const restored = await emu.restore()
    expect(restored.report?.hooks.map((hook) => [hook.name, hook.status])).toEqual([
      ['reopenFirst', 'ok'],
      ['reopenSecond', 'ok'],
    ])
    expect(restored.durationMs).toBeGreaterThan(0)
    expect(emu.afterRestore).toBe(restored.report)

    const results = []
    for (const n of [1, 2, 3]) results.push(await emu.invoke({ n }))
    expect(results.map((result) => result.status)).toEqual(['ok', 'ok', 'ok'])
    const responses = results.map((result) => result.response as Record<string, unknown>)
    expect(responses.map((response) => response.event)).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }])
    expect(responses.map((response) => response.count)).toEqual([1, 2, 3])
    expect(responses[0]!.order).toEqual([
      'before:closeSecond',
      'before:closeFirst',
      'after:reopenFirst',
      'after:reopenSecond',
    ])
    for (const [index, response] of responses.entries()) {
      expect(response.requestId).toBe(results[index]!.requestId)
      expect(response.traceId).toMatch(/^Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};/)
    }
    expect(new Set(responses.map((response) => response.traceId)).size).toBe(3)
    expect(responses[0]).toMatchObject({
      functionName: 'snapstart-function',
      functionVersion: '1',
      memoryLimitInMB: '128',
      invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:snapstart-function:1',
      logGroupName: '',
      logGroupEnv: null,
      callbackWaitsForEmptyEventLoop: true,
      initializationType: 'snap-start',
      tz: ':UTC',
      region: 'us-east-1',
    })
    expect(responses[0]!.remaining).toBeGreaterThan(2_000)
    expect(responses[0]!.remaining).toBeLessThanOrEqual(3_000)

    const kinds = emu.timeline.map((step) =>
      step.kind === 'hook' ? `hook:${step.name}` : step.kind,
    )
    expect(kinds).toEqual([
      'init',
      'beforeSnapshot',
      'hook:closeSecond',
      'hook:closeFirst',
      'frozen',
      'restore',
      'afterRestore',
      'hook:reopenFirst',
      'hook:reopenSecond',
      'invoke',
      'invoke',
      'invoke',
    ])
    expect(emu.timeline.every((step) => step.status === 'ok')).toBe(true)
    expect(emu.apiCalls.filter((call) => call.path === RESTORE_NEXT)).toHaveLength(1)
    expect(logs.some((entry) => entry.line.includes('"message":"SnapStart afterRestore ok'))).toBe(
      true,
    )
  })

  it('drops the pre-snapshot connection at the restore and reuses the new one', async () => {
    const emu = await start({ handler: fixture('rt-basic', 'handler.mjs') })
    await emu.restore()
    for (const n of [1, 2, 3]) await emu.invoke({ n })

    const calls = emu.apiCalls
    const restoreIndex = calls.findIndex((call) => call.path === RESTORE_NEXT)
    const before = calls.slice(0, restoreIndex + 1)
    const after = calls.slice(restoreIndex + 1)
    expect(new Set(before.map((call) => call.socket)).size).toBe(1)
    expect(new Set(after.map((call) => call.socket)).size).toBe(1)
    expect(after[0]!.socket).not.toBe(before[0]!.socket)
    const invocationCalls = after
      .filter((call) => call.path.startsWith('/2018-06-01/runtime/invocation/'))
      .map((call) => (call.path === NEXT ? 'next' : call.path.split('/').pop()))
    expect(invocationCalls.slice(0, 6)).toEqual([
      'next',
      'response',
      'next',
      'response',
      'next',
      'response',
    ])
  })

  it('restores on the first invoke without restore(); restore() is idempotent', async () => {
    const emu = await start({ handler: fixture('rt-basic', 'handler.mjs') })
    const result = await emu.invoke({ n: 1 })
    expect(result.status).toBe('ok')
    expect(emu.afterRestore?.status).toBe('ok')
    const again = await emu.restore()
    expect(again.report).toBe(emu.afterRestore)
  })

  it('close() is idempotent and leaves no process behind', async () => {
    const emu = await start({ handler: fixture('rt-basic', 'handler.mjs') })
    const pid = emu.pid!
    await Promise.all([emu.close(), emu.close()])
    await emu.close()
    expect(await emu.exited).toEqual({ code: null, signal: 'SIGKILL' })
    expect(() => process.kill(pid, 0)).toThrow(/ESRCH/)
    await expect(emu.invoke({})).rejects.toMatchObject({ errorType: 'Runtime.ExitError' })
  })
})

describe('on-demand mode', () => {
  it('runs no hook and never calls restore/next', async () => {
    const emu = await start({ handler: fixture('rt-basic', 'handler.mjs'), onDemand: true })
    expect(emu.mode).toBe('on-demand')
    expect(emu.beforeSnapshot).toBeUndefined()

    const result = await emu.invoke({ n: 1 })
    expect(result.response).toMatchObject({
      order: [],
      functionVersion: '$LATEST',
      invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:snapstart-function',
      logGroupName: '/aws/lambda/snapstart-function',
      logGroupEnv: '/aws/lambda/snapstart-function',
      initializationType: 'on-demand',
    })
    expect(emu.apiCalls.filter((call) => call.path === RESTORE_NEXT)).toHaveLength(0)
    expect(emu.afterRestore).toBeUndefined()
    expect(emu.timeline.map((step) => step.kind)).toEqual(['init', 'invoke'])
    await expect(emu.restore()).rejects.toBeInstanceOf(EmulatorStateError)
  })
})

describe('phase failures', () => {
  it('reports a failing before-snapshot hook as BeforeSnapshotError, exit 64', async () => {
    const failure = await captureStartError({
      handler: fixture('rt-phase-failures', 'before-fails.mjs'),
    })
    expect(failure).toBeInstanceOf(EmulatorError)
    expect(failure).toMatchObject({
      errorType: 'Runtime.BeforeSnapshotError',
      exitCode: 64,
    })
    expect(failure.errorMessage).toBe(
      'The before-snapshot hook "closePool" failed: Error: pool refused to close',
    )
    expect(failure.report?.hooks.find((hook) => hook.name === 'closePool')?.status).toBe('failed')
    expect(failure.timeline.map((step) => [step.kind, step.status])).toContainEqual(['init', 'ok'])
  })

  it('says an unhandled rejection escaped during the before-snapshot phase, exit 64', async () => {
    const failure = await captureStartError({
      handler: fixture('rt-phase-failures', 'before-escapes.mjs'),
    })
    expect(failure).toMatchObject({
      errorType: 'Runtime.BeforeSnapshotError',
      errorMessage:
        'An unhandled promise rejection during the before-snapshot phase: background flush failed',
      exitCode: 64,
    })
  })

  it('says an uncaught exception escaped during the after-restore phase, exit 65', async () => {
    const emu = await start({ handler: fixture('rt-phase-failures', 'after-escapes.mjs') })
    const failure = await emu.restore().catch((error: unknown) => error)
    expect(failure).toMatchObject({
      errorType: 'Runtime.AfterRestoreError',
      errorMessage:
        'An uncaught exception during the after-restore phase: background refresh failed',
      exitCode: 65,
    })
  })

  it('reports a failing after-restore hook as Runtime.AfterRestoreError and exits 65', async () => {
    const emu = await start({ handler: fixture('rt-phase-failures', 'after-fails.mjs') })
    const failure = await emu.restore().catch((error: unknown) => error)
    expect(failure).toBeInstanceOf(EmulatorError)
    expect(failure).toMatchObject({
      errorType: 'Runtime.AfterRestoreError',
      errorMessage: 'The after-restore hook "reconnect" failed: Error: database unreachable',
      exitCode: 65,
    })
    expect(emu.afterRestore?.hooks.map((hook) => [hook.name, hook.status])).toEqual([
      ['reconnect', 'failed'],
      ['neverRuns', 'skipped'],
    ])
    expect(emu.timeline.find((step) => step.kind === 'restore')?.status).toBe('failed')
    await expect(emu.invoke({})).rejects.toBe(failure)
  })

  it('stops a restore over the emulator limit with Lambda.SnapStartTimeoutException', async () => {
    const emu = await start({
      handler: fixture('rt-phase-failures', 'after-hangs.mjs'),
      restoreTimeoutMs: 300,
    })
    const failure = await emu.restore().catch((error: unknown) => error)
    expect(failure).toMatchObject({
      name: 'EmulatorError',
      errorType: 'Lambda.SnapStartTimeoutException',
      exitCode: null,
      signal: 'SIGKILL',
    })
    expect(emu.timeline.find((step) => step.kind === 'restore')?.status).toBe('timed-out')
  })

  it('reports its own after-restore overrun as AfterRestoreError first', async () => {
    const emu = await start({
      handler: fixture('rt-phase-failures', 'after-hangs.mjs'),
      env: { SNAPSTART_RESTORE_BUDGET_MS: '200' },
    })
    const failure = await emu.restore().catch((error: unknown) => error)
    expect(failure).toMatchObject({ errorType: 'Runtime.AfterRestoreError', exitCode: 65 })
    expect((failure as EmulatorError).errorMessage).toMatch(
      /^The after-restore phase ran over its 200 ms budget after \d+ ms, while hook "reloadConfig"/,
    )
    expect(emu.afterRestore?.status).toBe('timed-out')
  })
})

async function captureStartError(options: Parameters<typeof start>[0]): Promise<EmulatorError> {
  try {
    await start(options)
  } catch (error) {
    return error as EmulatorError
  }
  throw new Error('startEmulator resolved, but it was expected to fail')
}

/**
 * The process state letter from `/proc` once it equals `wanted`, or whatever it is after
 * two seconds: a stop signal is delivered asynchronously.
 */
async function stateOf(pid: number, wanted: string): Promise<string> {
  const deadline = Date.now() + 2_000
  for (;;) {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0]!
    if (state === wanted || Date.now() > deadline) return state
    await new Promise((resolve) => setImmediate(resolve))
  }
}
