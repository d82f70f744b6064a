import { existsSync } from 'node:fs'
import { afterAll, describe, expect, it } from 'vitest'
import { type BuiltSnapshot, restoreSnapshot } from '../../src/snapshot/index.js'
import { build, fixture, removeBuilds, startPoolServer } from './helpers.js'

afterAll(removeBuilds)

describe('C14: live handles at build time', () => {
  it('builds, and each restored environment reconnects and re-arms its interval', async () => {
    const server = await startPoolServer()
    try {
      const built = await build({
        handler: fixture('snap-c14/handler.mjs'),
        env: { SNAP_POOL_PORT: String(server.port), SNAPSTART_LOG_LEVEL: 'silent' },
      })

      expect(server.accepted()).toBe(1)
      expect(built.beforeSnapshot.status).toBe('ok')
      expect(
        built.beforeSnapshot.hooks.map(({ name, status, details }) => ({ name, status, details })),
      ).toEqual([
        { name: 'refresh', status: 'ok', details: undefined },
        { name: 'pool', status: 'ok', details: { closed: 1 } },
      ])

      const result = await restoreSnapshot(built, { environments: 2, coldStart: false })

      expect(result.failed).toBe(0)
      expect(server.accepted()).toBe(3)
      const responses = result.environments.map((environment) => environment.responses[0])
      expect(responses.map((response) => response?.status)).toEqual(['ok', 'ok'])
      const bodies = responses.map((response) => response?.response as Record<string, unknown>)
      expect(bodies.map((body) => body.greeting).sort()).toEqual(['connection 2', 'connection 3'])
      for (const body of bodies) {
        expect(body).toMatchObject({
          connected: true,
          intervalArmed: true,
          liveTimers: 1,
          refreshes: 0,
        })
      }
      for (const environment of result.environments) {
        const hooks = environment.afterRestore?.hooks.map(({ name, status, details }) => ({
          name,
          status,
          details,
        }))
        expect(hooks).toEqual([
          { name: 'pool', status: 'ok', details: { opened: 1 } },
          { name: 'refresh', status: 'ok', details: undefined },
        ])
        expect(environment.restoreMs).toBeGreaterThan(0)
        expect(environment.firstInvocationMs).toBeGreaterThanOrEqual(environment.restoreMs!)
      }
    } finally {
      await server.close()
    }
  })
})

describe('C09: ids drawn after a restore into two environments', () => {
  it('builds and restores with poolReset() of a custom resource built at init', async () => {
    const built = await build({ handler: fixture('snap-pool-reset/custom.mjs') })

    const result = await restoreSnapshot(built, { environments: 1, coldStart: false })

    expect(built.beforeSnapshot.hooks.map((hook) => [hook.name, hook.status])).toEqual([
      ['pool-reset:queue', 'ok'],
    ])
    expect(result.failed).toBe(0)
    expect(result.environments[0]?.responses[0]).toMatchObject({
      status: 'ok',
      response: { opened: 1 },
    })
  })

  it('repeats crypto.randomUUID() ids in both environments without a reseed', async () => {
    const built = await build({ handler: fixture('snap-uuid/plain.mjs') })

    const result = await restoreSnapshot(built, { environments: 2 })

    expect(result.failed).toBe(0)
    const [first, second] = result.environments.map(
      (environment) => environment.responses[0]?.response as Record<string, unknown>,
    )
    expect(first!.ids).toHaveLength(3)
    expect(new Set(first!.ids as string[]).size).toBe(3)
    expect(second!.ids).toEqual(first!.ids)
    expect(second!.initId).toBe(first!.initId)
    expect(second!.initRandom).toBe(first!.initRandom)
    // V8 reseeds Math.random when it deserializes a startup snapshot.
    expect(second!.random).not.toBe(first!.random)

    const cold = result.coldStart!.response?.response as Record<string, unknown>
    expect(result.coldStart!.failure).toBeUndefined()
    expect(cold.initId).not.toBe(first!.initId)
    expect(result.coldStart!.initMs).toBeGreaterThan(0)
    expect(result.coldStart!.firstInvocationMs).toBeGreaterThanOrEqual(result.coldStart!.initMs!)
  })

  it('gives 6 distinct ids across both environments with rngReseed()', async () => {
    const built = await build({ handler: fixture('snap-uuid/reseeded.mjs') })

    const result = await restoreSnapshot(built, { environments: 2, coldStart: false })

    expect(result.failed).toBe(0)
    const ids = result.environments.flatMap(
      (environment) => (environment.responses[0]!.response as { ids: string[] }).ids,
    )
    expect(ids).toHaveLength(6)
    expect(new Set(ids).size).toBe(6)
    for (const environment of result.environments) {
      expect(environment.afterRestore?.hooks[0]).toMatchObject({
        name: 'rng-reseed',
        status: 'ok',
        details: { uuidIdsSpent: 128 },
      })
    }
  })
})

describe('restoreSnapshot', () => {
  it('serves the events in order, with restore-time variables and errors as outcomes', async () => {
    const built = await build({
      handler: fixture('snap-restore/echo.mjs'),
      env: { SNAP_STAGE: 'build', SNAPSTART_LOG_LEVEL: 'silent' },
    })

    const result = await restoreSnapshot(built.blob, {
      events: [{ n: 1 }, { fail: 'on purpose' }, { n: 3 }],
      env: { SNAP_STAGE: 'restore', SNAPSTART_LOG_LEVEL: 'silent' },
      coldStart: false,
    })

    const [environment] = result.environments
    const pid = environment!.pid
    expect(environment!.failure).toBeUndefined()
    expect(environment!.responses.map(({ durationMs, ...rest }) => rest)).toEqual([
      {
        index: 0,
        status: 'ok',
        response: {
          event: { n: 1 },
          requestId: `snapshot-${pid}-1`,
          stageAtInit: 'build',
          stageNow: 'restore',
        },
      },
      {
        index: 1,
        status: 'error',
        error: { errorType: 'RangeError', errorMessage: 'asked to fail: on purpose' },
      },
      {
        index: 2,
        status: 'ok',
        response: {
          event: { n: 3 },
          requestId: `snapshot-${pid}-3`,
          stageAtInit: 'build',
          stageNow: 'restore',
        },
      },
    ])
    expect(result.sizeBytes).toBe(built.sizeBytes)
    expect(result.buildMs).toBe(built.buildMs)
  })

  it('calls a CommonJS callback-style handler', async () => {
    const built = await build({ handler: fixture('snap-restore/callback.cjs') })

    const result = await restoreSnapshot(built, { events: [{ value: 21 }] })

    expect(result.environments[0]!.responses[0]?.response).toEqual({
      style: 'callback',
      value: 42,
    })
    expect(result.coldStart!.response?.response).toEqual({ style: 'callback', value: 42 })
  })

  it('lets the handler load http after the restore', async () => {
    const built = await build({ handler: fixture('snap-bad/http-lazy.mjs') })

    const result = await restoreSnapshot(built, { coldStart: false })

    expect(result.environments[0]!.responses[0]).toMatchObject({
      status: 'ok',
      response: 'function',
    })
  })

  it('reports a failing after-restore hook per environment, and handles no event', async () => {
    const built = await build({ handler: fixture('snap-restore/after-restore-fails.mjs') })

    const result = await restoreSnapshot(built, { environments: 2, coldStart: false })

    expect(result.failed).toBe(2)
    for (const environment of result.environments) {
      expect(environment.responses).toEqual([])
      expect(environment.restoreMs).toBeUndefined()
      expect(environment.afterRestore?.status).toBe('failed')
      expect(environment.failure).toEqual({
        kind: 'afterRestore',
        message:
          'SnapStartPhaseError: The after-restore hook "fetchSecret" failed: Error: secret ' +
          'fetch failed',
        exitCode: 65,
        signal: null,
      })
    }
  })

  it('records the build: blob size, build time, init time and snapshot.json', async () => {
    const built = await build({ handler: fixture('snap-restore/echo.mjs') })

    expect(built.sizeBytes).toBeGreaterThan(1_000_000)
    expect(built.buildMs).toBeGreaterThan(0)
    expect(built.initMs).toBeGreaterThan(0)
    expect(built.nodeVersion).toBe(process.version)
    expect(built.execPath).toBe(process.execPath)
    expect(existsSync(`${built.outDir}/snapshot.json`)).toBe(true)
  })

  it('rejects bad options before starting anything', async () => {
    const built = {} as BuiltSnapshot

    await expect(restoreSnapshot(built, { environments: 0 })).rejects.toThrow(
      'restoreSnapshot: "environments" must be a whole number from 1 to 64',
    )
    await expect(restoreSnapshot(built, { events: {} as unknown[] })).rejects.toThrow(
      'restoreSnapshot: "events" must be an array of events',
    )
    await expect(
      restoreSnapshot(built, { environment: 2 } as unknown as { environments: number }),
    ).rejects.toThrow('restoreSnapshot: unknown option "environment"')
    await expect(restoreSnapshot(built, { timeoutMs: 3e9 })).rejects.toThrow(
      new TypeError(
        'restoreSnapshot: "timeoutMs" must be a number of milliseconds from 1 to 2147483647',
      ),
    )
  })
})
