import { afterAll, describe, expect, it } from 'vitest'
import { restoreSnapshot, SnapshotInitError } from '../../src/snapshot/index.js'
import { build, fixture, rejection, removeBuilds } from './helpers.js'

afterAll(removeBuilds)

const CJS_HANDLER = fixture('snap-lookup/handler.cjs')

describe('the snapshot entry follows own properties only, as the runtime does', () => {
  it.each(['constructor', 'toString', 'handler.call'])(
    'refuses export %j of a CommonJS handler: it is inherited',
    async (exportPath) => {
      const error = await rejection(build({ handler: CJS_HANDLER, export: exportPath }))

      expect(error).toBeInstanceOf(SnapshotInitError)
      expect(error).toMatchObject({ phase: 'init' })
      expect(error.message).toBe(
        `The handler export "${exportPath}" is not exported; export the handler function.`,
      )
    },
  )

  it('finds the own export "handler" of the same module', async () => {
    const built = await build({ handler: CJS_HANDLER })

    const result = await restoreSnapshot(built, { events: [{ n: 1 }], coldStart: false })

    expect(result.failed).toBe(0)
    expect(result.environments[0]?.responses).toEqual([
      { index: 0, status: 'ok', response: { answered: { n: 1 } }, durationMs: expect.any(Number) },
    ])
  })
})
