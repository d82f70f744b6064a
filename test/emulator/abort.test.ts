import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { type Emulator, EmulatorError, startEmulator } from '../../src/emulator/index.js'
import { childPids, fixture, start } from './helpers.js'
import { processState } from './process-state.js'

/** Starts an emulator and resolves to the pid the function printed, once it printed it. */
function startUntilLine(handler: string, signal: AbortSignal) {
  let seen!: (pid: number) => void
  const printed = new Promise<number>((resolve) => {
    seen = resolve
  })
  const started = start({
    handler,
    signal,
    onLog: (line) => {
      const match = /running in (\d+)$/.exec(line)
      if (match !== null) seen(Number(match[1]))
    },
  })
  return { printed, started }
}

async function rejection(promise: Promise<unknown>): Promise<EmulatorError> {
  try {
    await promise
  } catch (error) {
    return error as EmulatorError
  }
  throw new Error('expected a rejection')
}

describe('startEmulator({ signal })', () => {
  it.each([
    ['init', 'init-hangs.mjs'],
    ['the before-snapshot phase', 'before-hangs.mjs'],
  ])('aborting during %s kills the runtime, closes the server, rejects', async (_, file) => {
    const controller = new AbortController()
    const { printed, started } = startUntilLine(fixture('rt-interrupt', file), controller.signal)
    const pid = await printed
    controller.abort(new Error('stopped by the test'))
    const error = await rejection(started)

    expect(error).toBeInstanceOf(EmulatorError)
    expect(error).toMatchObject({
      errorType: 'Emulator.Aborted',
      errorMessage:
        'The emulator was aborted (stopped by the test): the runtime process was killed and ' +
        'the Runtime API server closed',
      exitCode: null,
      signal: 'SIGKILL',
    })
    expect(existsSync(`/proc/${pid}`)).toBe(false)
    expect(childPids()).toEqual([])
  })

  it('rejects at once for a signal aborted before the call, starting nothing', async () => {
    const error = await rejection(
      startEmulator({ handler: fixture('rt-interrupt', 'echo.mjs'), signal: AbortSignal.abort() }),
    )
    expect(error).toMatchObject({
      errorType: 'Emulator.Aborted',
      errorMessage:
        'The emulator was aborted: the runtime process was not started and the Runtime API ' +
        'server closed',
    })
    expect(childPids()).toEqual([])
  })

  it('aborting a started emulator stops it: restore() and invoke() reject', async () => {
    const controller = new AbortController()
    const emulator: Emulator = await start({
      handler: fixture('rt-interrupt', 'echo.mjs'),
      signal: controller.signal,
    })
    controller.abort()
    expect(await emulator.exited).toEqual({ code: null, signal: 'SIGKILL' })
    expect(childPids()).toEqual([])

    const restore = await rejection(emulator.restore())
    const invoke = await rejection(emulator.invoke({}))
    for (const error of [restore, invoke]) {
      expect(error).toMatchObject({
        errorType: 'Emulator.Aborted',
        errorMessage:
          'The emulator was aborted: the runtime process was killed and the Runtime API ' +
          'server closed',
      })
    }
  })

  it('refuses a signal that is not an AbortSignal', async () => {
    const options = { handler: fixture('rt-interrupt', 'echo.mjs'), signal: {} as AbortSignal }
    await expect(startEmulator(options)).rejects.toThrow(
      new TypeError('startEmulator: "signal" must be an AbortSignal'),
    )
  })
})

describe('a script that fails before close()', () => {
  it('leaves no runtime process: the exit listener kills it', async () => {
    const script = spawn(process.execPath, [fixture('rt-interrupt', 'crash-after-start.mjs')], {
      cwd: fixture('rt-interrupt'),
      env: { PATH: process.env.PATH },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    script.stdout.on('data', (chunk) => {
      stdout += chunk
    })
    script.stderr.on('data', (chunk) => {
      stderr += chunk
    })
    const code = await new Promise((resolve) => script.once('close', resolve))

    expect(code).toBe(1)
    expect(stderr).toContain('Error: the script failed before close()')
    const pid = Number(/^runtime (\d+)$/m.exec(stdout)?.[1])
    expect(pid).toBeGreaterThan(0)
    expect(processState(pid)).not.toBe('alive')
  })
})
