import { describe, expect, it } from 'vitest'
import { fixture, logs, start } from '../emulator/helpers.js'

const WARM_UP = fixture('rt-warm-up', 'handler.mjs')
const REPORT = 'POST /snapstart-emulator/v1/report'

/** The Runtime API calls as `METHOD path`, up to the first `invocation/next`. */
function callsBeforeFirstInvocation(calls: readonly { method: string; path: string }[]) {
  const lines = calls.map((call) => `${call.method} ${call.path}`)
  return lines.slice(0, lines.indexOf('GET /2018-06-01/runtime/invocation/next'))
}

describe('the warm-up of the invocation path before the snapshot', () => {
  it('sends nothing, calls no handler, draws no random number, leaves no trace id', async () => {
    const emu = await start({ handler: WARM_UP })

    const first = await emu.invoke({ real: 1 })

    expect(first.response).toEqual({
      seenAfterRestore: {
        traceId: null,
        handlerCalls: 0,
        draws: { random: 0, randomUUID: 0, randomBytes: 0, getRandomValues: 0 },
      },
      handlerCalls: 1,
      traceId: expect.stringMatching(/^Root=1-[0-9a-f]{8}-/),
    })
    expect(callsBeforeFirstInvocation(emu.apiCalls)).toEqual([
      REPORT,
      REPORT,
      'GET /2018-06-01/runtime/restore/next',
      REPORT,
    ])
    const logged = logs.map((entry) => JSON.parse(entry.line) as { type: string; phase: string })
    expect(logged.map((line) => `${line.type} ${line.phase}`)).toEqual([
      'snapstart.phase beforeSnapshot',
      'snapstart.phase afterRestore',
    ])
  })

  it('gives _X_AMZN_TRACE_ID back the value it had before the warm-up', async () => {
    const emu = await start({ handler: WARM_UP, env: { _X_AMZN_TRACE_ID: 'Root=from-env' } })

    const first = await emu.invoke({})

    expect(first.response).toMatchObject({ seenAfterRestore: { traceId: 'Root=from-env' } })
  })

  it('logs its duration at debug level, and runs only in snap-start mode', async () => {
    const env = { SNAPSTART_LOG_LEVEL: 'debug' }
    const snapStart = await start({ handler: WARM_UP, env })
    await snapStart.restore()
    const warmUps = () =>
      logs.map((entry) => entry.line).filter((line) => line.includes('"snapstart.warmUp"'))

    expect(warmUps().map((line) => JSON.parse(line))).toEqual([
      expect.objectContaining({
        level: 'DEBUG',
        message: 'The runtime warmed up its invocation path',
        durationMs: expect.any(Number),
      }),
    ])

    logs.length = 0
    const onDemand = await start({ handler: WARM_UP, env, onDemand: true })
    await onDemand.invoke({})
    expect(warmUps()).toEqual([])
  })
})
