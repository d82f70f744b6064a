import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import {
  buildSnapshot,
  SnapshotBuildError,
  SnapshotBuildTimeoutError,
  SnapshotEsmOnlyError,
  SnapshotHttpError,
  SnapshotInitError,
  SnapshotLiveHandlesError,
} from '../../src/snapshot/index.js'
import { build, fixture, rejection, removeBuilds } from './helpers.js'

afterAll(removeBuilds)

const version = process.versions.node

describe('what a startup snapshot cannot hold', () => {
  it('names top-level await, where it is, and the fix', async () => {
    const error = await rejection(build({ handler: fixture('snap-bad/top-level-await.mjs') }))

    expect(error).toBeInstanceOf(SnapshotEsmOnlyError)
    expect(error).toMatchObject({
      name: 'SnapshotEsmOnlyError',
      feature: 'top-level await',
      location: 'test/fixtures/snap-bad/top-level-await.mjs:1',
    })
    expect(error.message).toBe(
      'Cannot build a startup snapshot: test/fixtures/snap-bad/top-level-await.mjs:1 uses ' +
        'top-level await, which only ESM supports, and a startup snapshot is built from one ' +
        'CommonJS bundle. Start the work at module load without awaiting it and await the ' +
        'promise in the handler (or in a before-snapshot hook), or move it into an ' +
        'after-restore hook.',
    )
  })

  it('names import.meta, where it is, and the fix', async () => {
    const error = await rejection(build({ handler: fixture('snap-bad/import-meta.mjs') }))

    expect(error).toMatchObject({
      name: 'SnapshotEsmOnlyError',
      feature: 'import.meta',
      location: 'test/fixtures/snap-bad/import-meta.mjs:1',
    })
    expect(error.message).toContain('uses import.meta, which only ESM supports')
  })

  it('names the sockets, server and timer alive after the before-snapshot hooks', async () => {
    const error = await rejection(build({ handler: fixture('snap-bad/live-handles.mjs') }))

    expect(error).toBeInstanceOf(SnapshotLiveHandlesError)
    expect([...(error as SnapshotLiveHandlesError).resources].sort()).toEqual([
      'TCPServerWrap',
      'TCPSocketWrap',
      'TCPSocketWrap',
      'Timeout',
    ])
    expect(error.message).toBe(
      'Cannot build a startup snapshot: after the before-snapshot hooks these handles were ' +
        'still alive: TCPServerWrap (a TCP server), TCPSocketWrap (a TCP socket) x2, Timeout ' +
        '(a timer from setTimeout or setInterval). Close them in a before-snapshot hook (and ' +
        'reopen them in an after-restore hook; registerResource does both).',
    )
  })

  it('names http loaded during init, the file that loaded it, and the fix', async () => {
    const error = await rejection(build({ handler: fixture('snap-bad/http.mjs') }))

    expect(error).toBeInstanceOf(SnapshotHttpError)
    expect((error as SnapshotHttpError).module).toBe('node:http')
    expect(error.message).toBe(
      'Cannot build a startup snapshot: "node:http" was loaded during init (from ' +
        `test/fixtures/snap-bad/http.mjs). Node ${version} cannot keep http, https, http2, ` +
        'tls or fetch in a startup snapshot (the build fails or V8 aborts). Load it after the ' +
        'restore: require it inside the handler or in an after-restore hook (for example ' +
        "`const http = await import('node:http')`), and create HTTP clients (AWS SDK clients " +
        'too) lazily on first use.',
    )
  })

  it('turns a V8 abort while writing the snapshot into an error naming the cause', async () => {
    const error = await rejection(build({ handler: fixture('snap-bad/zlib-stream.mjs') }))

    expect(error).toBeInstanceOf(SnapshotBuildError)
    expect(error).toMatchObject({ signal: 'SIGTRAP', exitCode: null })
    expect(error.message).toBe(
      'V8 aborted while writing the snapshot: something created during init holds native ' +
        'state a startup snapshot cannot keep (V8: global handle not serialized). Typical ' +
        'causes: zlib streams, DNS resolvers, native addons, http internals. Create them ' +
        'after the restore (lazily, or in an after-restore hook) instead.',
    )
  })

  it('names fetch called during init', async () => {
    const error = await rejection(build({ handler: fixture('snap-bad/fetch.mjs') }))

    expect(error).toBeInstanceOf(SnapshotHttpError)
    expect((error as SnapshotHttpError).module).toBe('fetch')
    expect(error.message).toContain(
      'fetch() was called during init (from test/fixtures/snap-bad/fetch.mjs)',
    )
  })
})

describe('init failures', () => {
  it('reports a handler that throws while loading', async () => {
    const error = await rejection(build({ handler: fixture('snap-bad/throws.mjs') }))

    expect(error).toBeInstanceOf(SnapshotInitError)
    expect(error).toMatchObject({ phase: 'init' })
    expect(error.message).toBe('The handler threw while loading (init): Error: config missing')
  })

  it('reports a missing export', async () => {
    const error = await rejection(
      build({ handler: fixture('snap-restore/echo.mjs'), export: 'main' }),
    )

    expect(error).toMatchObject({ name: 'SnapshotInitError', phase: 'init' })
    expect(error.message).toBe(
      'The handler export "main" is not exported; export the handler function.',
    )
  })

  it('reports a failing before-snapshot hook with the phase report', async () => {
    const error = await rejection(build({ handler: fixture('snap-bad/hook-fails.mjs') }))

    expect(error).toMatchObject({ name: 'SnapshotInitError', phase: 'beforeSnapshot' })
    expect(error.message).toBe(
      'The before-snapshot hook "drain" failed: Error: drain failed (while building the snapshot)',
    )
    expect((error as SnapshotInitError).report?.hooks).toEqual([
      {
        name: 'drain',
        durationMs: expect.any(Number),
        status: 'failed',
        error: { name: 'Error', message: 'drain failed' },
      },
    ])
  })

  it('kills a build that runs over its time limit and says where it was', async () => {
    const error = await rejection(
      build({ handler: fixture('snap-bad/hook-never-settles.mjs'), timeoutMs: 1_000 }),
    )

    expect(error).toBeInstanceOf(SnapshotBuildTimeoutError)
    expect(error).toMatchObject({ timeoutMs: 1_000, stage: 'beforeSnapshot' })
    expect(error.message).toBe(
      'The snapshot build was killed after 1000 ms: the before-snapshot hooks had not ' +
        'finished. Find what init waits for (a promise that never settles, a connection that ' +
        'never opens), or raise timeoutMs.',
    )
  })

  it('removes the directory it created when the build fails', async () => {
    const parent = mkdtempSync(join(tmpdir(), 'snapshot-test-'))
    const saved = process.env.TMPDIR
    process.env.TMPDIR = parent
    try {
      await rejection(buildSnapshot({ handler: fixture('snap-bad/throws.mjs') }))

      expect(readdirSync(parent)).toEqual([])
    } finally {
      if (saved === undefined) delete process.env.TMPDIR
      else process.env.TMPDIR = saved
      rmSync(parent, { recursive: true, force: true })
    }
  })
})

describe('buildSnapshot options', () => {
  it('rejects bad options before bundling', async () => {
    const handler = fixture('snap-restore/echo.mjs')

    await expect(buildSnapshot({ handler, timeoutMs: 0 })).rejects.toThrow(
      'buildSnapshot: "timeoutMs" must be a number of milliseconds from 1 to 2147483647',
    )
    await expect(buildSnapshot({ handler, execArgv: ['--snapshot-blob=x'] })).rejects.toThrow(
      'buildSnapshot: "execArgv" must not contain --snapshot-blob=x; it is set for you',
    )
    await expect(
      buildSnapshot({ handler, exportName: 'x' } as unknown as { handler: string }),
    ).rejects.toThrow('buildSnapshot: unknown option "exportName"')
    await expect(buildSnapshot({ handler: fixture('snap-bad/missing.mjs') })).rejects.toThrow(
      /^Cannot find the handler file .*snap-bad\/missing\.mjs$/,
    )
  })

  it('rejects a timeoutMs longer than Node timers keep, not timing out after 1 ms', async () => {
    const handler = fixture('snap-restore/echo.mjs')

    await expect(buildSnapshot({ handler, timeoutMs: 3e9 })).rejects.toThrow(
      new TypeError(
        'buildSnapshot: "timeoutMs" must be a number of milliseconds from 1 to 2147483647',
      ),
    )
  })
})
