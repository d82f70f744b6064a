import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest'
import { restoreSnapshot, SnapshotInitError } from '../../src/snapshot/index.js'
import { build, fixture, rejection, removeBuilds } from './helpers.js'

afterAll(removeBuilds)

const quiet = { SNAPSTART_LOG_LEVEL: 'silent' }

describe('the environment of the snapshot processes', () => {
  beforeEach(() => {
    process.env.SECRET_TOKEN = 'parent-secret'
  })
  afterEach(() => {
    delete process.env.SECRET_TOKEN
  })

  it('hides this process’s variables from the build, the restores and the cold start', async () => {
    const built = await build({ handler: fixture('snap-env/handler.mjs') })

    const result = await restoreSnapshot(built, { environments: 1 })

    const restored = result.environments[0]?.responses[0]?.response
    const cold = result.coldStart?.response?.response
    expect(restored).toEqual({
      atInit: { secret: null, apiKey: null },
      now: { secret: null, apiKey: null },
      handler: 'handler.handler',
      initializationType: 'snap-start',
    })
    expect(cold).toEqual({
      atInit: { secret: null, apiKey: null },
      now: { secret: null, apiKey: null },
      handler: 'handler.handler',
      initializationType: 'on-demand',
    })
  })
})

describe('snapshot.json', () => {
  it('records the names of the build’s variables, never their values', async () => {
    const built = await build({
      handler: fixture('snap-env/handler.mjs'),
      env: { ...quiet, API_KEY: 'key-value-1234' },
    })

    const text = readFileSync(join(built.outDir, 'snapshot.json'), 'utf8')
    expect(text).not.toContain('key-value-1234')
    const meta = JSON.parse(text)
    expect(meta.env).toBeUndefined()
    expect(meta.envNames).toEqual(['SNAPSTART_LOG_LEVEL', 'API_KEY'])
    expect(built.env).toEqual({ ...quiet, API_KEY: 'key-value-1234' })
  })

  it('restores from the file with the values given again, and refuses without', async () => {
    const built = await build({
      handler: fixture('snap-env/handler.mjs'),
      env: { ...quiet, API_KEY: 'at-build' },
    })

    await expect(restoreSnapshot(built.outDir, { env: quiet })).rejects.toEqual(
      new TypeError(
        'restoreSnapshot: "env" must give API_KEY again: the snapshot was built with this ' +
          'variable, and snapshot.json keeps only their names, never their values',
      ),
    )
    const result = await restoreSnapshot(built.blob, {
      env: { ...quiet, API_KEY: 'at-restore' },
      coldStart: false,
    })
    expect(result.environments[0]?.responses[0]?.response).toMatchObject({
      atInit: { secret: null, apiKey: 'at-build' },
      now: { secret: null, apiKey: 'at-restore' },
    })
  })
})

describe('the SNAPSTART_* variables in a snapshot', () => {
  const hooksOf = (report: { hooks: { name: string; status: string }[] } | undefined) =>
    report?.hooks.map(({ name, status }) => ({ name, status }))

  it('applies SNAPSTART_RNG_RESEED and gives after-restore hooks 9 000 ms', async () => {
    const built = await build({
      handler: fixture('snap-restore/echo.mjs'),
      env: { ...quiet, SNAPSTART_RNG_RESEED: 'true' },
    })

    const result = await restoreSnapshot(built, { coldStart: false })

    const report = result.environments[0]?.afterRestore
    expect(hooksOf(report)).toEqual([{ name: 'rng-reseed', status: 'ok' }])
    expect(report?.budgetMs).toBe(9000)
  })

  it('takes the after-restore budget from SNAPSTART_RESTORE_BUDGET_MS at restore', async () => {
    const built = await build({
      handler: fixture('snap-restore/echo.mjs'),
      env: { ...quiet, SNAPSTART_RESTORE_BUDGET_MS: '2500' },
    })

    const result = await restoreSnapshot(built, {
      env: { SNAPSTART_RESTORE_BUDGET_MS: '4000' },
      coldStart: false,
    })

    expect(result.environments[0]?.afterRestore?.budgetMs).toBe(4000)
  })

  it('fails the build at init on a malformed SNAPSTART_* variable', async () => {
    const error = await rejection(
      build({
        handler: fixture('snap-restore/echo.mjs'),
        env: { ...quiet, SNAPSTART_RNG_RESEED: 'yes' },
      }),
    )

    expect(error).toBeInstanceOf(SnapshotInitError)
    expect(error.message).toBe(
      'A SNAPSTART_* variable is malformed: SNAPSTART_RNG_RESEED: expected true or false, ' +
        'got "yes"',
    )
  })
})
