import { describe, expect, it } from 'vitest'
import { parseCommand, UsageError } from '../../src/emulator/args.js'
import { startEmulator } from '../../src/emulator/index.js'
import { EXPORT_PATH } from '../../src/runtime/export-path.js'
import { buildSnapshot } from '../../src/snapshot/index.js'

const io = {
  cwd: '/project',
  isFile: (path: string) => path === '/project/handler.mjs',
  readText: () => '',
  readStdin: () => '',
}

describe('one rule names an export everywhere', () => {
  it.each(['handler', 'api.get', 'get-orders', '$h', '1abc', 'api.v1.get'])(
    'accepts %j',
    (name) => {
      expect(EXPORT_PATH.test(name)).toBe(true)
      expect(parseCommand(['run', 'handler.mjs', '--export', name], io)).toMatchObject({
        options: { export: name },
      })
    },
  )

  it.each(['', 'a..b', '.a', 'a.', 'a/b', 'a b'])(
    'refuses %j in the CLI and both APIs',
    async (name) => {
      expect(EXPORT_PATH.test(name)).toBe(false)
      expect(() => parseCommand(['run', 'handler.mjs', '--export', name], io)).toThrow(UsageError)
      await expect(startEmulator({ handler: 'handler.mjs', export: name })).rejects.toThrow(
        'startEmulator: "export" must be an export name such as "handler"',
      )
      await expect(buildSnapshot({ handler: 'handler.mjs', export: name })).rejects.toThrow(
        'buildSnapshot: "export" must be an export name such as "handler"',
      )
    },
  )
})
