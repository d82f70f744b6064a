import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { startEmulator } from '../../src/emulator/index.js'

const dir = mkdtempSync(join(tmpdir(), 'snapstart-handler-file-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('the handler file given to startEmulator', () => {
  it('must be the file Lambda would load for its module name', async () => {
    writeFileSync(join(dir, 'orders.cjs'), 'exports.handler = async () => "cjs"\n')
    writeFileSync(join(dir, 'orders.ts'), 'export const handler = async () => "ts"\n')

    await expect(startEmulator({ handler: join(dir, 'orders.ts') })).rejects.toThrow(
      new TypeError(
        'startEmulator: orders.ts is not the file that would run: Lambda names the module ' +
          '"orders" without its extension, and orders.cjs next to it comes first (.js, .mjs, ' +
          '.cjs, .ts, .mts, .cts); rename one of them',
      ),
    )
  })

  it('must have a module extension', async () => {
    writeFileSync(join(dir, 'notes.json'), '{}\n')

    await expect(startEmulator({ handler: join(dir, 'notes.json') })).rejects.toThrow(
      'startEmulator: the handler must be a .js, .mjs, .cjs, .ts, .mts, .cts file, got notes.json',
    )
  })
})
