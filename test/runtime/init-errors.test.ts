import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import type { EmulatorError, EmulatorOptions } from '../../src/emulator/index.js'
import { fixture, start } from '../emulator/helpers.js'

const scratch = mkdtempSync(join(tmpdir(), 'rt-syntax-'))
afterAll(() => rmSync(scratch, { recursive: true, force: true }))

async function initFailure(options: EmulatorOptions): Promise<EmulatorError> {
  try {
    await start(options)
  } catch (error) {
    return error as EmulatorError
  }
  throw new Error('startEmulator resolved, but init was expected to fail')
}

describe('init errors go to /runtime/init/error, then the runtime exits 129', () => {
  it('Runtime.UserCodeSyntaxError for a module with a syntax error', async () => {
    const file = join(scratch, 'broken.mjs')
    writeFileSync(file, 'export const handler = async () => {\n  return 1 +* 2\n}\n')
    const failure = await initFailure({ handler: file })
    expect(failure).toMatchObject({
      name: 'EmulatorError',
      errorType: 'Runtime.UserCodeSyntaxError',
      exitCode: 129,
    })
    expect(failure.errorMessage).toMatch(/^SyntaxError: /)
  })

  it('Runtime.ImportModuleError for a missing handler file', async () => {
    const failure = await initFailure({ handler: fixture('rt-init-errors', 'absent.mjs') })
    expect(failure).toMatchObject({ errorType: 'Runtime.ImportModuleError', exitCode: 129 })
    expect(failure.errorMessage).toMatch(/^Cannot find module "absent" under .*rt-init-errors/)
  })

  it('Runtime.ImportModuleError for a missing dependency', async () => {
    const failure = await initFailure({ handler: fixture('rt-init-errors', 'missing-dep.mjs') })
    expect(failure).toMatchObject({ errorType: 'Runtime.ImportModuleError', exitCode: 129 })
    expect(failure.errorMessage).toContain("Cannot find package 'rt-package-that-does-not-exist'")
  })

  it('Runtime.ImportModuleError for a module that throws while loading', async () => {
    const failure = await initFailure({ handler: fixture('rt-init-errors', 'throws.mjs') })
    expect(failure).toMatchObject({
      errorType: 'Runtime.ImportModuleError',
      errorMessage: '"throws" threw while loading: Error: boom at load',
      exitCode: 129,
    })
  })

  it('Runtime.HandlerNotFound for a missing export and a non-function export', async () => {
    const missing = await initFailure({
      handler: fixture('rt-init-errors', 'noexport.mjs'),
    })
    expect(missing).toMatchObject({
      errorType: 'Runtime.HandlerNotFound',
      errorMessage: 'noexport.handler is undefined or not exported',
      exitCode: 129,
    })
    const notFunction = await initFailure({
      handler: fixture('rt-init-errors', 'noexport.mjs'),
      export: 'notAFunction',
    })
    expect(notFunction).toMatchObject({
      errorType: 'Runtime.HandlerNotFound',
      errorMessage: 'noexport.notAFunction is not a function (number)',
    })
  })

  it('Runtime.MalformedHandlerName for a handler without an export part', async () => {
    const failure = await initFailure({
      handler: fixture('rt-basic', 'handler.mjs'),
      env: { _HANDLER: 'handler' },
    })
    expect(failure).toMatchObject({
      errorType: 'Runtime.MalformedHandlerName',
      errorMessage:
        'Bad handler "handler": expected "path/module.export", for example "index.handler"',
      exitCode: 129,
    })
  })

  it('refuses a handler path that leaves the task root, even when the file exists', async () => {
    const failure = await initFailure({
      handler: fixture('rt-esm', 'handler.js'),
      env: { _HANDLER: '../rt-basic/handler.handler' },
    })
    expect(failure).toMatchObject({ errorType: 'Runtime.MalformedHandlerName', exitCode: 129 })
    expect(failure.errorMessage).toMatch(
      new RegExp(
        '^Bad handler "../rt-basic/handler.handler": the module path "../rt-basic/handler" ' +
          'leaves the task root /',
      ),
    )
  })

  it('fails init clearly for a streaming handler: streaming is not supported', async () => {
    const failure = await initFailure({ handler: fixture('rt-init-errors', 'streaming.mjs') })
    expect(failure).toMatchObject({
      errorType: 'Runtime.ResponseStreamingNotSupported',
      exitCode: 129,
    })
    expect(failure.errorMessage).toMatch(/does not support response streaming/)
  })

  it('enforces the init limit with Sandbox.Timedout and kills the runtime', async () => {
    const failure = await initFailure({
      handler: fixture('rt-basic', 'handler.mjs'),
      initTimeoutMs: 1,
    })
    expect(failure).toMatchObject({
      errorType: 'Sandbox.Timedout',
      errorMessage: 'The init phase did not finish within 1 ms',
      exitCode: null,
      signal: 'SIGKILL',
    })
  })
})

describe('handler lookup follows own properties only', () => {
  it.each([
    ['handler.cjs', 'constructor'],
    ['handler.cjs', 'toString'],
    ['handler.cjs', 'handler.call'],
    ['handler.cjs', 'obj.hasOwnProperty'],
    ['handler.cjs', '__proto__'],
    ['module.mjs', 'constructor'],
    ['module.mjs', 'toString'],
    ['module.mjs', 'handler.call'],
    ['module.mjs', 'obj.hasOwnProperty'],
  ])('%s: %s is Runtime.HandlerNotFound at init, exit 129', async (file, exportPath) => {
    const failure = await initFailure({ handler: fixture('rt-lookup', file), export: exportPath })
    const moduleName = file.slice(0, file.indexOf('.'))
    expect(failure).toMatchObject({
      errorType: 'Runtime.HandlerNotFound',
      errorMessage: `${moduleName}.${exportPath} is undefined or not exported`,
      exitCode: 129,
    })
  })

  it.each(['handler.cjs', 'module.mjs'])('%s: an own nested export still loads', async (file) => {
    const emu = await start({
      handler: fixture('rt-lookup', file),
      export: 'obj.nested',
      onDemand: true,
    })
    expect((await emu.invoke({})).response).toBe('own nested')
  })
})

describe('a folder whose name starts with two dots', () => {
  it('loads _HANDLER=..data/index.handler: the folder is inside the task root', async () => {
    const root = mkdtempSync(join(tmpdir(), 'rt-dotdot-'))
    try {
      mkdirSync(join(root, '..data'))
      writeFileSync(
        join(root, '..data', 'index.mjs'),
        "export const handler = async () => 'data'\n",
      )
      writeFileSync(join(root, 'index.mjs'), "export const handler = async () => 'root'\n")
      const emu = await start({
        handler: join(root, 'index.mjs'),
        env: { _HANDLER: '..data/index.handler' },
        onDemand: true,
      })
      expect((await emu.invoke({})).response).toBe('data')
    } finally {
      rmSync(root, { recursive: true, force: true })
    }
  })

  it('still refuses .. itself: _HANDLER=../index.handler', async () => {
    const failure = await initFailure({
      handler: fixture('rt-esm', 'handler.js'),
      env: { _HANDLER: '../index.handler' },
    })
    expect(failure).toMatchObject({ errorType: 'Runtime.MalformedHandlerName', exitCode: 129 })
  })
})
