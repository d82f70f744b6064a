import { describe, expect, it } from 'vitest'
import { EmulatorError, MAX_EVENT_BYTES, startEmulator } from '../../src/emulator/index.js'
import { fixture, start } from './helpers.js'

const budgetOf = (report: { hooks: { details?: Record<string, unknown> }[] } | undefined) =>
  report?.hooks[0]?.details?.budgetMs

describe('the runtime’s phase budgets', () => {
  it('gives after-restore hooks 9 000 ms by default, under Lambda’s 10 000 ms limit', async () => {
    const emu = await start({ handler: fixture('rt-budget', 'handler.mjs') })
    const { report } = await emu.restore()

    expect(budgetOf(report)).toBe(9000)
    expect(budgetOf(report)).toBeLessThan(10_000)
    expect(report?.budgetMs).toBe(9000)
  })

  it('takes the after-restore budget from SNAPSTART_RESTORE_BUDGET_MS', async () => {
    const emu = await start({
      handler: fixture('rt-budget', 'handler.mjs'),
      env: { SNAPSTART_RESTORE_BUDGET_MS: '2500' },
    })
    const { report } = await emu.restore()

    expect(budgetOf(report)).toBe(2500)
    expect(report?.budgetMs).toBe(2500)
  })

  it('gives before-snapshot hooks a whole number of ms, less than the 130 000 ms', async () => {
    const emu = await start({ handler: fixture('rt-budget', 'handler.mjs') })
    const budget = budgetOf(emu.beforeSnapshot) as number

    expect(Number.isInteger(budget)).toBe(true)
    expect(budget).toBeGreaterThan(100_000)
    expect(budget).toBeLessThan(130_000)
    expect(emu.beforeSnapshot?.budgetMs).toBe(budget)
  })
})

describe('invoke() payload limit', () => {
  const sized = (bytes: number) => 'x'.repeat(bytes - 2)

  it('sends an event of exactly 6 291 456 bytes', async () => {
    const emu = await start({ handler: fixture('rt-interrupt', 'echo.mjs'), export: 'length' })
    const result = await emu.invoke(sized(MAX_EVENT_BYTES))

    expect(MAX_EVENT_BYTES).toBe(6_291_456)
    expect(result).toMatchObject({ status: 'ok', response: MAX_EVENT_BYTES - 2 })
  })

  it('rejects one byte over with RequestEntityTooLargeException, sending nothing', async () => {
    const emu = await start({ handler: fixture('rt-interrupt', 'echo.mjs') })
    const over = emu.invoke(sized(MAX_EVENT_BYTES + 1))

    await expect(over).rejects.toBeInstanceOf(EmulatorError)
    await expect(over).rejects.toMatchObject({
      errorType: 'RequestEntityTooLargeException',
      errorMessage:
        "The event is 6291457 bytes, over Lambda's limit of 6291456 bytes (6 MB) for a " +
        'synchronous invocation payload; it was not sent',
    })
    expect(emu.apiCalls.map((call) => call.path)).toEqual([
      '/snapstart-emulator/v1/report',
      '/snapstart-emulator/v1/report',
      '/2018-06-01/runtime/restore/next',
    ])
    expect(await emu.invoke({ after: true })).toMatchObject({
      status: 'ok',
      response: { event: { after: true } },
    })
  })
})

describe('startEmulator({ env })', () => {
  it('refuses AWS_LAMBDA_RUNTIME_API with a TypeError, starting nothing', async () => {
    await expect(
      startEmulator({
        handler: fixture('rt-interrupt', 'echo.mjs'),
        env: { AWS_LAMBDA_RUNTIME_API: '127.0.0.1:9' },
      }),
    ).rejects.toThrow(
      new TypeError(
        'startEmulator: env.AWS_LAMBDA_RUNTIME_API cannot be set: the emulator gives the ' +
          'runtime the address of its own Runtime API',
      ),
    )
  })
})

describe('timer options above 2 147 483 647 ms', () => {
  const handler = fixture('rt-interrupt', 'echo.mjs')
  const cases = [
    {
      options: { timeoutSeconds: 2_147_484 },
      message: 'startEmulator: "timeoutSeconds" must be a number of seconds from 0.001 to 2147483',
    },
    {
      options: { initTimeoutMs: 2 ** 31 },
      message:
        'startEmulator: "initTimeoutMs" must be a number of milliseconds from 1 to 2147483647',
    },
    {
      options: { restoreTimeoutMs: 2 ** 31 },
      message:
        'startEmulator: "restoreTimeoutMs" must be a number of milliseconds from 1 to ' +
        '2147483647',
    },
  ]

  it.each(cases)('refuses $options with a TypeError, starting nothing', async (entry) => {
    const started = startEmulator({ handler, ...entry.options })

    await expect(started).rejects.toBeInstanceOf(TypeError)
    await expect(started).rejects.toEqual(new TypeError(entry.message))
  })

  it('accepts exactly 2 147 483 s and 2 147 483 647 ms', async () => {
    const emu = await start({
      handler,
      timeoutSeconds: 2_147_483,
      initTimeoutMs: 2_147_483_647,
      restoreTimeoutMs: 2_147_483_647,
    })

    expect(await emu.invoke({ n: 1 }, { timeoutMs: 2_147_483_647 })).toMatchObject({
      status: 'ok',
      response: { event: { n: 1 } },
    })
  })

  it('refuses invoke({ timeoutMs: 2 ** 31 }) with a TypeError, sending nothing', async () => {
    const emu = await start({ handler })
    const invoked = emu.invoke({}, { timeoutMs: 2 ** 31 })

    await expect(invoked).rejects.toBeInstanceOf(TypeError)
    await expect(invoked).rejects.toEqual(
      new TypeError('invoke: "timeoutMs" must be a number of milliseconds from 1 to 2147483647'),
    )
    expect(await emu.invoke({ n: 2 })).toMatchObject({
      status: 'ok',
      response: { event: { n: 2 } },
    })
  })
})
