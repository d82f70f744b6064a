import { describe, expect, it } from 'vitest'
import { startEmulator } from '../../src/emulator/index.js'
import { buildSnapshot, restoreSnapshot } from '../../src/snapshot/index.js'

describe('the env option of startEmulator, buildSnapshot and restoreSnapshot', () => {
  it('refuses a value that is not a string, naming the key and never the value', async () => {
    const env = { STAGE: 'dev', PORT: 8080 } as unknown as Record<string, string>

    await expect(startEmulator({ handler: 'handler.mjs', env })).rejects.toThrow(
      'startEmulator: "env.PORT" must be a string, got number',
    )
    await expect(buildSnapshot({ handler: 'handler.mjs', env })).rejects.toThrow(
      'buildSnapshot: "env.PORT" must be a string, got number',
    )
    await expect(restoreSnapshot('snapshot.blob', { env })).rejects.toThrow(
      'restoreSnapshot: "env.PORT" must be a string, got number',
    )
  })

  it('refuses an env that is not an object', async () => {
    const env = ['A=1'] as unknown as Record<string, string>

    await expect(buildSnapshot({ handler: 'handler.mjs', env })).rejects.toThrow(
      'buildSnapshot: "env" must be an object whose values are strings',
    )
    await expect(startEmulator({ handler: 'handler.mjs', env })).rejects.toThrow(
      'startEmulator: "env" must be an object whose values are strings',
    )
  })
})
