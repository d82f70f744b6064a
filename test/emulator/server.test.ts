import { afterEach, describe, expect, it } from 'vitest'
import { type ReportedError, RuntimeApiServer } from '../../src/emulator/server.js'
import { fixture, request, start } from './helpers.js'

const RUNTIME = '/2018-06-01/runtime'

describe('403 for calls made in the wrong state', () => {
  it('refuses restore/next, init/error, restore/error and foreign ids once serving', async () => {
    const emu = await start({ handler: fixture('rt-basic', 'handler.mjs') })
    const first = await emu.invoke({ n: 1 })
    const api = emu.runtimeApi

    const restoreNext = await request(api, 'GET', `${RUNTIME}/restore/next`)
    expect(restoreNext.status).toBe(403)
    expect(JSON.parse(restoreNext.body)).toEqual({
      errorType: 'InvalidStateTransition',
      errorMessage: 'restore/next is not allowed in state ready',
    })
    expect((await request(api, 'POST', `${RUNTIME}/init/error`, '{}')).status).toBe(403)
    expect((await request(api, 'POST', `${RUNTIME}/restore/error`, '{}')).status).toBe(403)
    const finished = `${RUNTIME}/invocation/${first.requestId}/response`
    expect((await request(api, 'POST', finished, '"late"')).status).toBe(403)
    const unknown = `${RUNTIME}/invocation/not-a-request/error`
    expect((await request(api, 'POST', unknown, '{}')).status).toBe(403)
    const secondNext = await request(api, 'GET', `${RUNTIME}/invocation/next`)
    expect(secondNext.status).toBe(403)
    expect(JSON.parse(secondNext.body).errorMessage).toBe(
      'Another invocation/next is already waiting',
    )
    expect((await request(api, 'GET', '/2018-06-01/nothing-here')).status).toBe(404)
    expect((await request(api, 'POST', `${RUNTIME}/invocation/next`)).status).toBe(405)

    expect(await emu.invoke({ n: 2 })).toMatchObject({ status: 'ok', response: { count: 2 } })
  })

  it('refuses invocation/next and restore/error at the snapshot point', async () => {
    const emu = await start({ handler: fixture('rt-basic', 'handler.mjs') })
    const api = emu.runtimeApi
    const next = await request(api, 'GET', `${RUNTIME}/invocation/next`)
    expect(next.status).toBe(403)
    expect(JSON.parse(next.body).errorMessage).toBe(
      'invocation/next is not allowed in state snapshot',
    )
    expect((await request(api, 'POST', `${RUNTIME}/restore/error`, '{}')).status).toBe(403)
    expect((await emu.invoke({ n: 1 })).status).toBe('ok')
  })

  it('refuses restore/next in on-demand mode', async () => {
    const emu = await start({ handler: fixture('rt-basic', 'handler.mjs'), onDemand: true })
    const reply = await request(emu.runtimeApi, 'GET', `${RUNTIME}/restore/next`)
    expect(reply.status).toBe(403)
    expect(JSON.parse(reply.body).errorMessage).toBe(
      'restore/next is only allowed in snap-start mode',
    )
  })
})

describe('error-type header validation', () => {
  let server: RuntimeApiServer | undefined
  afterEach(async () => {
    await server?.close()
    server = undefined
  })

  async function initErrorWith(header: string | undefined): Promise<ReportedError> {
    let reported: ReportedError | undefined
    const received = new Promise<void>((resolve) => {
      server = new RuntimeApiServer(false, {
        initError: (error) => {
          reported = error
          resolve()
        },
      })
    })
    const api = await server!.listen()
    const headers: Record<string, string> =
      header === undefined ? {} : { 'Lambda-Runtime-Function-Error-Type': header }
    const body = JSON.stringify({ errorType: 'TypeError', errorMessage: 'bad', stackTrace: ['a'] })
    const reply = await request(api, 'POST', `${RUNTIME}/init/error`, body, headers)
    expect(reply.status).toBe(202)
    await received
    return reported!
  }

  it('keeps a well-formed Runtime.* or Function.* type', async () => {
    expect(await initErrorWith('Runtime.ImportModuleError')).toEqual({
      errorType: 'Runtime.ImportModuleError',
      bodyErrorType: 'TypeError',
      errorMessage: 'bad',
      stackTrace: ['a'],
    })
    await server!.close()
    expect((await initErrorWith('Function.TypeError')).errorType).toBe('Function.TypeError')
  })

  it('maps a malformed or missing type to Runtime.Unknown', async () => {
    for (const header of ['TypeError', 'Runtime.lowercase', 'Runtime.Has-Dash', undefined]) {
      expect((await initErrorWith(header)).errorType).toBe('Runtime.Unknown')
      await server!.close()
    }
  })
})

describe('malformed request paths', () => {
  let server: RuntimeApiServer | undefined
  afterEach(async () => {
    await server?.close()
    server = undefined
  })

  it('answers 404 NotFound to a malformed percent escape and keeps serving', async () => {
    server = new RuntimeApiServer(false, {})
    const api = await server.listen()
    const uncaught: unknown[] = []
    const onUncaught = (error: unknown) => uncaught.push(error)
    process.on('uncaughtException', onUncaught)
    try {
      for (const method of ['GET', 'POST']) {
        const path = `${RUNTIME}/invocation/%E0%A4%A/response`
        const reply = await request(api, method, path, method === 'POST' ? '{}' : undefined)

        expect(reply.status).toBe(404)
        expect(JSON.parse(reply.body)).toEqual({
          errorType: 'NotFound',
          errorMessage: `No Runtime API endpoint at ${path}`,
        })
      }
      const next = await request(api, 'POST', `${RUNTIME}/invocation/next`)
      expect(next.status).toBe(405)
    } finally {
      process.off('uncaughtException', onUncaught)
    }
    expect(uncaught).toEqual([])
  })
})
