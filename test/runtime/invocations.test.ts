import { describe, expect, it } from 'vitest'
import { MAX_RESPONSE_BYTES } from '../../src/emulator/index.js'
import { fixture, start } from '../emulator/helpers.js'

function behaviour(name: string, extra: { timeoutSeconds?: number } = {}) {
  return start({
    handler: fixture('rt-behaviours', 'handler.mjs'),
    export: name,
    onDemand: true,
    ...extra,
  })
}

describe('invocation errors', () => {
  it('reports a thrown error: errorType, errorMessage, trace, error-type header', async () => {
    const emu = await behaviour('throws')
    const result = await emu.invoke({})
    expect(result.status).toBe('error')
    expect(result.error?.errorType).toBe('TypeError')
    expect(result.error?.errorMessage).toBe('bad input')
    expect(result.error?.trace?.[0]).toBe('TypeError: bad input')
    expect(result.error?.trace?.[1]).toMatch(/handler\.mjs:\d+:\d+/)
    expect(result.functionErrorType).toBe('Function.TypeError')

    const next = await emu.invoke({})
    expect(next.status).toBe('error')
    expect(next.requestId).not.toBe(result.requestId)
  })

  it('reports a thrown non-Error value and an error with an unusual name', async () => {
    const plain = await behaviour('throwsString')
    expect(await plain.invoke({})).toMatchObject({
      status: 'error',
      error: { errorType: 'Error', errorMessage: 'plain string', trace: [] },
      functionErrorType: 'Function.Error',
    })
    const odd = await behaviour('oddlyNamed')
    expect(await odd.invoke({})).toMatchObject({
      error: { errorType: 'not-a-valid-name', errorMessage: 'odd name' },
      functionErrorType: 'Function.Error',
    })
  })

  it('reports a result that cannot be serialized as Runtime.SerializationError', async () => {
    const emu = await behaviour('bigint')
    expect(await emu.invoke({})).toMatchObject({
      status: 'error',
      error: {
        errorType: 'Runtime.SerializationError',
        errorMessage:
          "Unable to serialize the handler's result to JSON: Do not know how to serialize a BigInt",
      },
      functionErrorType: 'Runtime.SerializationError',
    })
    const circular = await behaviour('circular')
    const result = await circular.invoke({})
    expect(result.error?.errorType).toBe('Runtime.SerializationError')
    expect(result.error?.errorMessage).toMatch(/circular/i)
  })

  it('answers null for a handler that returns undefined', async () => {
    const emu = await behaviour('nothing')
    expect(await emu.invoke({})).toMatchObject({ status: 'ok', response: null })
  })

  it('sends Runtime.MalformedEvent for an event that is not JSON, and keeps serving', async () => {
    const emu = await behaviour('echo')
    expect(await emu.invoke(undefined, { payload: '{not json' })).toMatchObject({
      status: 'error',
      error: { errorType: 'Runtime.MalformedEvent' },
      functionErrorType: 'Runtime.MalformedEvent',
    })
    expect(await emu.invoke({ ok: true })).toMatchObject({ status: 'ok', response: { ok: true } })
  })
})

describe('timeouts and crashes', () => {
  it('ends an invocation past its timeout as Sandbox.Timedout, kills the runtime', async () => {
    const emu = await behaviour('hangs')
    const result = await emu.invoke({}, { timeoutMs: 200 })
    expect(result).toMatchObject({
      status: 'error',
      error: {
        errorType: 'Sandbox.Timedout',
        errorMessage: `${result.requestId} Task timed out after 0.20 seconds`,
      },
    })
    expect(result.functionErrorType).toBeUndefined()
    expect(await emu.exited).toEqual({ code: null, signal: 'SIGKILL' })
    expect(emu.timeline.at(-1)).toMatchObject({ kind: 'invoke', status: 'timed-out' })
    await expect(emu.invoke({})).rejects.toMatchObject({
      name: 'EmulatorError',
      errorType: 'Runtime.ExitError',
      errorMessage:
        'The runtime process has exited after Sandbox.Timedout (signal SIGKILL); start a new ' +
        'emulator to go on',
    })
  })

  it('reports an uncaught exception during an invocation, then the runtime exits 129', async () => {
    const emu = await behaviour('uncaught')
    const result = await emu.invoke({})
    expect(result).toMatchObject({
      status: 'error',
      error: { errorType: 'Error', errorMessage: 'escaped the handler' },
      functionErrorType: 'Runtime.UncaughtException',
    })
    expect(await emu.exited).toEqual({ code: 129, signal: null })
    await expect(emu.invoke({})).rejects.toMatchObject({
      errorType: 'Runtime.ExitError',
      exitCode: 129,
    })
  })

  it('reports an unhandled rejection in an invocation, then exits 129', async () => {
    const emu = await behaviour('rejection')
    expect(await emu.invoke({})).toMatchObject({
      status: 'error',
      error: { errorType: 'Error', errorMessage: 'nobody listens' },
      functionErrorType: 'Runtime.UnhandledPromiseRejection',
    })
    expect(await emu.exited).toEqual({ code: 129, signal: null })
  })
})

describe('response size', () => {
  it('accepts a response of exactly 6 MB', async () => {
    const emu = await behaviour('sized')
    const result = await emu.invoke({ size: MAX_RESPONSE_BYTES })
    expect(result.status).toBe('ok')
    expect((result.response as string).length).toBe(MAX_RESPONSE_BYTES - 2)
  })

  it('answers 413 to a response one byte over 6 MB, and the runtime keeps serving', async () => {
    const emu = await behaviour('sized')
    const result = await emu.invoke({ size: MAX_RESPONSE_BYTES + 1 })
    expect(result).toMatchObject({
      status: 'error',
      error: {
        errorType: 'Function.ResponseSizeTooLarge',
        errorMessage:
          'Response payload size (6291457 bytes) exceeded maximum allowed payload size ' +
          '(6291456 bytes).',
      },
    })
    const responsePost = emu.apiCalls.find((call) => call.path.endsWith('/response'))
    expect(responsePost?.status).toBe(413)
    expect(await emu.invoke({ size: 4 })).toMatchObject({ status: 'ok', response: 'xx' })
  })
})
