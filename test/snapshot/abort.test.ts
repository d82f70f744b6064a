import { spawn } from 'node:child_process'
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { buildSnapshot, restoreSnapshot, SnapshotAbortedError } from '../../src/snapshot/index.js'
import { processState } from '../emulator/process-state.js'
import { build, fixture, rejection, removeBuilds } from './helpers.js'

afterAll(removeBuilds)

/** Calls `found` with the pid in the first line that says `running in <pid>`. */
function whenRunning(found: (pid: number) => void) {
  return (line: string) => {
    const pid = /running in (\d+)$/.exec(line)?.[1]
    if (pid !== undefined) found(Number(pid))
  }
}

describe('an AbortSignal stops the snapshot processes', () => {
  it('aborting during the build kills it and rejects with SnapshotAbortedError', async () => {
    const controller = new AbortController()
    let pid = 0
    const building = buildSnapshot({
      handler: fixture('snap-slow/before-waits.mjs'),
      signal: controller.signal,
      onLog: whenRunning((running) => {
        pid = running
        controller.abort(new Error('stop'))
      }),
    })

    const error = await rejection(building)

    expect(error).toBeInstanceOf(SnapshotAbortedError)
    expect(error).toMatchObject({ name: 'SnapshotAbortedError', stage: 'build' })
    expect(error.message).toBe(
      'The snapshot build was aborted (stop): none of its processes is left running',
    )
    expect(pid).toBeGreaterThan(0)
    expect(processState(pid)).toBe('gone')
  })

  it('an aborted signal starts no build', async () => {
    const error = await rejection(
      buildSnapshot({
        handler: fixture('snap-slow/before-waits.mjs'),
        signal: AbortSignal.abort(),
      }),
    )

    expect(error).toMatchObject({ name: 'SnapshotAbortedError', stage: 'build' })
    expect(error.message).toBe(
      'The snapshot build was aborted: none of its processes is left running',
    )
  })

  it('aborting during a restore kills every environment and starts no cold start', async () => {
    const built = await build({ handler: fixture('snap-slow/after-waits.mjs') })
    const controller = new AbortController()
    const pids: number[] = []
    const sources: (number | 'cold')[] = []
    const restoring = restoreSnapshot(built, {
      environments: 2,
      signal: controller.signal,
      onLog: (line, _stream, source) => {
        sources.push(source)
        whenRunning((running) => {
          pids.push(running)
          if (pids.length === 2) controller.abort(new Error('stop'))
        })(line)
      },
    })

    const error = await rejection(restoring)

    expect(error).toMatchObject({ name: 'SnapshotAbortedError', stage: 'restore' })
    expect(error.message).toBe(
      'The snapshot restore was aborted (stop): none of its processes is left running',
    )
    expect(pids.map(processState)).toEqual(['gone', 'gone'])
    expect(sources).not.toContain('cold')
  })

  it('refuses a signal that is not an AbortSignal', async () => {
    const signal = {} as AbortSignal
    await expect(buildSnapshot({ handler: 'handler.mjs', signal })).rejects.toThrow(
      new TypeError('buildSnapshot: "signal" must be an AbortSignal'),
    )
    await expect(restoreSnapshot('snapshot.blob', { signal })).rejects.toThrow(
      new TypeError('restoreSnapshot: "signal" must be an AbortSignal'),
    )
  })
})

describe('a script that exits while a snapshot build runs', () => {
  it('leaves no build process and no build folder: the exit listener removes both', async () => {
    // The script's own temporary folder, so that nothing else writes in it.
    const temp = mkdtempSync(join(tmpdir(), 'snapstart-exit-during-build-'))
    const script = spawn(process.execPath, [fixture('snap-slow/exit-during-build.mjs')], {
      cwd: fixture('snap-slow'),
      env: { PATH: process.env.PATH, TMPDIR: temp },
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    let stdout = ''
    script.stdout.on('data', (chunk) => {
      stdout += chunk
    })
    const code = await new Promise((resolve) => script.once('close', resolve))

    expect(code).toBe(1)
    const pid = Number(/^build (\d+)$/m.exec(stdout)?.[1])
    expect(pid).toBeGreaterThan(0)
    expect(processState(pid)).not.toBe('alive')
    expect(readdirSync(temp)).toEqual([])
    rmSync(temp, { recursive: true, force: true })
  })
})
