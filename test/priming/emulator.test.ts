import { describe, expect, it } from 'vitest'
import { EmulatorError } from '../../src/emulator/index.js'
import { fixture, logs, start } from '../emulator/helpers.js'

const PRIME = (file: string) => fixture('prime-emulator', file)

describe('snapStart({ prime }) through the runtime and the emulator', () => {
  it('primes before the snapshot, first, and leaves the first real invocation clean', async () => {
    const emu = await start({ handler: PRIME('counting.mjs') })

    expect(emu.beforeSnapshot?.status).toBe('ok')
    expect(emu.beforeSnapshot?.hooks[0]).toEqual({
      name: 'prime',
      durationMs: expect.any(Number),
      status: 'ok',
      details: { invocations: 2 },
    })

    const first = await emu.invoke({ real: 1 })
    const second = await emu.invoke({ real: 2 })

    expect(first.status).toBe('ok')
    const response = first.response as Record<string, unknown>
    expect(response).toEqual({
      countAtStart: 0,
      primingSeen: [
        { priming: true, event: { warm: true }, requestId: expect.any(String) },
        { priming: true, event: { warm: true }, requestId: expect.any(String) },
      ],
      priming: false,
      restored: true,
      firstInvocationAfterRestore: true,
      event: { real: 1 },
    })
    const ids = (response.primingSeen as { requestId: string }[]).map((seen) => seen.requestId)
    expect(new Set([...ids, first.requestId]).size).toBe(3)
    expect(second.response).toMatchObject({
      countAtStart: 1,
      priming: false,
      firstInvocationAfterRestore: false,
    })
    const kinds = emu.timeline.map((step) =>
      step.kind === 'hook' ? `${step.phase}:${step.name}` : step.kind,
    )
    expect(kinds.slice(0, 4)).toEqual(['init', 'beforeSnapshot', 'beforeSnapshot:prime', 'frozen'])
  })

  it("primes through the runtime's invocation path: a real context, a JSON event", async () => {
    const emu = await start({ handler: PRIME('shape.mjs') })

    const result = await emu.invoke({ real: true })

    expect(result.status).toBe('ok')
    const [priming, real] = result.response as Record<string, unknown>[]
    // The same fields, in the same order, with no mark of priming on the object itself.
    expect(priming).toMatchObject({ priming: true, keys: real!.keys, symbols: 0 })
    expect(real).toMatchObject({ priming: false, symbols: 0, event: { real: true } })
    expect(real!.keys).toContain('snapStart')
    for (const field of [
      'functionName',
      'functionVersion',
      'memoryLimitInMB',
      'logGroupName',
      'logStreamName',
    ]) {
      expect(priming![field]).toBe(real![field])
    }
    expect(priming!.functionName).toBe('snapstart-function')
    expect(priming!.invokedFunctionArn).toBe(
      'arn:aws:lambda:us-east-1:000000000000:function:snapstart-function',
    )
    // Sent as JSON, as Lambda sends an event: a Date arrives as its string, undefined is gone.
    expect(priming!.event).toEqual({ at: '1970-01-01T00:00:00.000Z' })
  })

  it.each([
    ['getOrder', { pathParameters: { id: '1' } }, [{ pathParameters: { id: 'warm' } }], [0, 1]],
    [
      'createOrder',
      { body: '{"sku":"a"}' },
      [{ body: '{"sku":"warm"}' }, { body: '{"sku":"warm"}' }],
      [2, 0],
    ],
  ])(
    'with two primed exports, sends only %s its own events',
    async (name, event, primed, counts) => {
      const emu = await start({ handler: PRIME('two-exports.mjs'), export: name })

      const result = await emu.invoke(event)

      expect(result.status).toBe('ok')
      expect(result.response).toEqual(primed.map((sent) => ({ handler: name, event: sent })))
      // Registration order: getOrder's snapStart() first; before the snapshot they run reversed.
      expect(emu.beforeSnapshot?.hooks.map((hook) => hook.details)).toEqual(
        counts.map((invocations) => ({ invocations })),
      )
    },
  )

  it('fails the snapshot with Runtime.BeforeSnapshotError naming prime and the event', async () => {
    const failure = await start({ handler: PRIME('fails.mjs') }).catch((error: unknown) => error)

    expect(failure).toBeInstanceOf(EmulatorError)
    expect(failure).toMatchObject({ errorType: 'Runtime.BeforeSnapshotError', exitCode: 64 })
    expect((failure as EmulatorError).errorMessage).toBe(
      'The before-snapshot hook "prime" failed: SnapStartPrimingError: Priming event #0 ' +
        '(round 1 of 1) failed: Error: cannot handle the priming event',
    )
    const report = (failure as EmulatorError).report
    expect(report?.hooks.find((hook) => hook.name === 'prime')?.status).toBe('failed')
  })

  it('with optional, warns naming the event and goes on to the snapshot', async () => {
    const emu = await start({ handler: PRIME('fails-optional.mjs') })

    expect(emu.beforeSnapshot?.status).toBe('ok')
    expect(emu.beforeSnapshot?.hooks[0]).toMatchObject({
      name: 'prime',
      status: 'ok',
      details: { invocations: 1 },
    })
    const warnings = logs
      .map((entry) => entry.line)
      .filter((line) => line.includes('"type":"snapstart.priming"'))
      .map((line) => JSON.parse(line))
    expect(warnings).toEqual([
      expect.objectContaining({
        level: 'WARN',
        message: 'Priming event #0 (round 1 of 1) failed: Error: cannot handle the priming event',
        event: 0,
        round: 1,
      }),
    ])
    const result = await emu.invoke({ real: true })
    expect(result).toMatchObject({ status: 'ok', response: { answered: { real: true } } })
  })
})
