import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type CliDeps, type EmulatorHandle, main } from '../../src/emulator/cli.js'
import type { EmulatorOptions, InvocationResult, TimelineStep } from '../../src/emulator/types.js'
import type { PhaseReport } from '../../src/types.js'
import { VERSION } from '../../src/version.js'

/** What the fake emulator saw, in order. */
type Call =
  | { call: 'start'; options: EmulatorOptions }
  | { call: 'restore' }
  | { call: 'invoke'; event: unknown }
  | { call: 'close' }

interface FakeSetup {
  startError?: unknown
  restoreError?: unknown
  /** Invocation results by index; default: ok, echoing the event. */
  results?: Record<number, Partial<InvocationResult>>
  pid?: number
  /** Runs inside restore(), before it resolves. */
  onRestore?: () => void
}

const beforeReport: PhaseReport = {
  phase: 'beforeSnapshot',
  startedAt: '2026-01-01T00:00:00.000Z',
  durationMs: 2,
  status: 'ok',
  budgetMs: 130_000,
  hooks: [{ name: 'closeDb', durationMs: 2, status: 'ok' }],
}
const afterReport: PhaseReport = {
  phase: 'afterRestore',
  startedAt: '2026-01-01T00:00:01.000Z',
  durationMs: 3,
  status: 'ok',
  budgetMs: 10_000,
  hooks: [{ name: 'openDb', durationMs: 3, status: 'ok' }],
}

let dir: string
let calls: Call[]

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'snapstart-cli-'))
  writeFileSync(join(dir, 'handler.mjs'), 'export const handler = async (event) => event\n')
  calls = []
})

afterEach(() => {
  rmSync(dir, { recursive: true, force: true })
})

/** A stand-in for `startEmulator` that records calls and builds a timeline like the real one. */
function fakeStart(setup: FakeSetup = {}): CliDeps['startEmulator'] {
  return async (options) => {
    calls.push({ call: 'start', options })
    if (setup.startError !== undefined) throw setup.startError
    const timeline: TimelineStep[] = [
      { kind: 'init', name: 'init', startMs: 0, durationMs: 5, status: 'ok' },
      { kind: 'beforeSnapshot', name: 'beforeSnapshot', startMs: 5, durationMs: 2, status: 'ok' },
      {
        kind: 'hook',
        phase: 'beforeSnapshot',
        name: 'closeDb',
        startMs: 5,
        durationMs: 2,
        status: 'ok',
      },
    ]
    let invocations = 0
    const emulator: { -readonly [K in keyof EmulatorHandle]: EmulatorHandle[K] } = {
      beforeSnapshot: beforeReport,
      afterRestore: undefined,
      timeline,
      pid: setup.pid,
      async restore() {
        calls.push({ call: 'restore' })
        setup.onRestore?.()
        if (setup.restoreError !== undefined) throw setup.restoreError
        timeline.push(
          {
            kind: 'afterRestore',
            name: 'afterRestore',
            startMs: 1000,
            durationMs: 3,
            status: 'ok',
          },
          {
            kind: 'hook',
            phase: 'afterRestore',
            name: 'openDb',
            startMs: 1000,
            durationMs: 3,
            status: 'ok',
          },
        )
        emulator.afterRestore = afterReport
        return { report: afterReport, durationMs: 3 }
      },
      async invoke(event) {
        calls.push({ call: 'invoke', event })
        const index = invocations++
        const result: InvocationResult = {
          requestId: `req-${index + 1}`,
          status: 'ok',
          response: { echo: event },
          durationMs: 1,
          ...setup.results?.[index],
        }
        timeline.push({
          kind: 'invoke',
          name: `req-${index + 1}`,
          startMs: 1010 + index,
          durationMs: 1,
          status: result.status === 'ok' ? 'ok' : 'failed',
        })
        return result
      },
      async close() {
        calls.push({ call: 'close' })
      },
    }
    return emulator
  }
}

async function cli(argv: string[], setup: FakeSetup = {}, env: NodeJS.ProcessEnv = {}) {
  let stdout = ''
  let stderr = ''
  const deps: CliDeps = {
    startEmulator: fakeStart(setup),
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text), isTTY: env.FAKE_TTY === '1' },
    env: { PATH: process.env.PATH, ...env },
    io: {
      cwd: dir,
      isFile: (path) => path === join(dir, 'handler.mjs') || path.endsWith('.json'),
      readText: (path) => (path.endsWith('a.json') ? '{"n":1}' : '{"n":2}'),
      readStdin: () => '{}',
    },
  }
  const code = await main(argv, deps)
  return { code, stdout, stderr }
}

const lastLine = (text: string) => text.trimEnd().split('\n').at(-1)

describe('snapstart run', () => {
  it('runs init, pause, restore and the events in order, one response line each', async () => {
    const result = await cli([
      'run',
      'handler.mjs',
      '--event',
      'a.json',
      '--event',
      'b.json',
      '--repeat',
      '2',
    ])

    expect(result.code).toBe(0)
    expect(result.stdout).toBe(
      '{"echo":{"n":1}}\n{"echo":{"n":2}}\n{"echo":{"n":1}}\n{"echo":{"n":2}}\n',
    )
    expect(calls.map((entry) => entry.call)).toEqual([
      'start',
      'restore',
      'invoke',
      'invoke',
      'invoke',
      'invoke',
      'close',
    ])
    expect(calls[0]).toEqual({
      call: 'start',
      options: { handler: 'handler.mjs', cwd: dir, env: {}, onDemand: false },
    })
    const labels = result.stderr
      .split('\n')
      .map((line) => line.replace(/ {2,}(ok|failed|skipped|timed-out) .*$/, ''))
    expect(labels).toEqual([
      'init',
      'before-snapshot',
      '  closeDb',
      'frozen',
      'after-restore',
      '  openDb',
      'invoke #1',
      'invoke #2',
      'invoke #3',
      'invoke #4',
      expect.stringMatching(/^total \d+\.\d ms, restore to first response \d+\.\d ms$/),
      '',
    ])
  })

  it('passes --export, --env, --timeout and --memory to the emulator', async () => {
    const argv = ['run', 'handler.mjs', '--export', 'a.b', '--env', 'K=V', '--timeout', '9']
    await cli([...argv, '--memory', '256'])
    expect(calls[0]).toEqual({
      call: 'start',
      options: {
        handler: 'handler.mjs',
        export: 'a.b',
        cwd: dir,
        env: { K: 'V' },
        onDemand: false,
        timeoutSeconds: 9,
        memoryMb: 256,
      },
    })
  })

  it('never restores in on-demand mode', async () => {
    const result = await cli(['run', 'handler.mjs', '--on-demand'])
    expect(result.code).toBe(0)
    expect(calls.map((entry) => entry.call)).toEqual(['start', 'invoke', 'close'])
    expect(result.stderr).not.toContain('frozen')
  })

  it('holds the snapshot point for at least --frozen', async () => {
    const started = performance.now()
    let restoredAfter = 0
    const result = await cli(['run', 'handler.mjs', '--frozen', '120ms'], {
      onRestore: () => {
        restoredAfter = performance.now() - started
      },
    })
    expect(result.code).toBe(0)
    expect(restoredAfter).toBeGreaterThanOrEqual(120)
    expect(result.stderr).toMatch(/^frozen +ok +1\d\d\.\d ms/m)
  })

  it('restores only after the --while-frozen command ended, and gives it the pid', async () => {
    const marker = join(dir, 'done')
    const pid = 'process.env.SNAPSTART_RUNTIME_PID'
    const script = `require('fs').writeFileSync(${JSON.stringify(marker)}, ${pid})`
    const command = `node -e ${JSON.stringify(script)} && echo command-output`
    let seen: string | undefined
    const result = await cli(['run', 'handler.mjs', '--while-frozen', command], {
      pid: 4242,
      onRestore: () => {
        seen = readFileSync(marker, 'utf8')
      },
    })
    expect(result.code).toBe(0)
    expect(seen).toBe('4242')
    expect(result.stderr.startsWith('command-output\n')).toBe(true)
    expect(result.stdout).toBe('{"echo":{}}\n')
  })

  it('stops before the restore when the --while-frozen command fails', async () => {
    const result = await cli(['run', 'handler.mjs', '--while-frozen', 'exit 3'])
    expect(result.code).toBe(1)
    expect(calls.map((entry) => entry.call)).toEqual(['start', 'close'])
    expect(result.stderr).toMatch(/^frozen +failed /m)
    expect(lastLine(result.stderr)).toBe(
      'snapstart: Emulator.WhileFrozenCommandFailed: --while-frozen command ended with exit ' +
        'code 3, so the run stopped before the restore: exit 3',
    )
  })

  it('reports an after-restore failure with its Lambda error type and exit code', async () => {
    const restoreError = Object.assign(new Error('hook "openDb" failed: Error: no route'), {
      name: 'EmulatorError',
      errorType: 'Runtime.AfterRestoreError',
      errorMessage: 'The after-restore hook "openDb" failed: Error: no route',
      exitCode: 65,
    })
    const result = await cli(['run', 'handler.mjs'], { restoreError })
    expect(result.code).toBe(1)
    expect(calls.map((entry) => entry.call)).toEqual(['start', 'restore', 'close'])
    expect(result.stdout).toBe('')
    expect(lastLine(result.stderr)).toBe(
      'snapstart: Runtime.AfterRestoreError: The after-restore hook "openDb" failed: ' +
        'Error: no route (runtime exited with code 65)',
    )
  })

  it('reports an init failure when the emulator cannot start', async () => {
    const startError = Object.assign(new Error('x'), {
      errorType: 'Runtime.ImportModuleError',
      errorMessage: "Cannot find module 'nope'",
      exitCode: 1,
    })
    const result = await cli(['run', 'handler.mjs'], { startError })
    expect(result.code).toBe(1)
    expect(result.stderr).toBe(
      'timeline: no step ran\n' +
        "snapstart: Runtime.ImportModuleError: Cannot find module 'nope' " +
        '(runtime exited with code 1)\n',
    )
  })

  it('sends every event after a handler error, then fails with its type', async () => {
    const error = { errorType: 'TypeError', errorMessage: 'x is undefined', trace: ['at h'] }
    const result = await cli(['run', 'handler.mjs', '--repeat', '3'], {
      results: { 1: { status: 'error', error } },
    })
    expect(result.code).toBe(1)
    expect(result.stdout).toBe(`{"echo":{}}\n${JSON.stringify(error)}\n{"echo":{}}\n`)
    expect(result.stderr).toMatch(/^invoke #2 +failed /m)
    expect(lastLine(result.stderr)).toBe(
      'snapstart: TypeError: invocation 2 of 3 failed: x is undefined',
    )
  })

  it('prints the whole run as one JSON document with --json', async () => {
    const result = await cli(['run', 'handler.mjs', '--json', '--event', 'a.json'])
    expect(result.code).toBe(0)
    expect(result.stderr).toBe('')
    const document = JSON.parse(result.stdout)
    expect(document).toEqual({
      handler: 'handler.mjs',
      mode: 'snap-start',
      events: [{ n: 1 }],
      responses: [
        { requestId: 'req-1', status: 'ok', response: { echo: { n: 1 } }, durationMs: 1 },
      ],
      reports: { beforeSnapshot: beforeReport, afterRestore: afterReport },
      timeline: [
        expect.objectContaining({ kind: 'init' }),
        expect.objectContaining({ kind: 'beforeSnapshot' }),
        expect.objectContaining({ kind: 'hook', name: 'closeDb' }),
        expect.objectContaining({ kind: 'frozen', status: 'ok' }),
        expect.objectContaining({ kind: 'afterRestore' }),
        expect.objectContaining({ kind: 'hook', name: 'openDb' }),
        expect.objectContaining({ kind: 'invoke', name: 'req-1' }),
      ],
      outcome: { status: 'ok' },
    })
  })

  it('puts the failure in the --json outcome', async () => {
    const restoreError = { errorType: 'Lambda.SnapStartTimeoutException', errorMessage: 'slow' }
    const result = await cli(['run', 'handler.mjs', '--json'], { restoreError })
    expect(result.code).toBe(1)
    expect(JSON.parse(result.stdout).outcome).toEqual({
      status: 'failed',
      errorType: 'Lambda.SnapStartTimeoutException',
      errorMessage: 'slow',
    })
    expect(result.stderr).toBe('snapstart: Lambda.SnapStartTimeoutException: slow\n')
  })

  it('colours the timeline only on a terminal without NO_COLOR', async () => {
    expect((await cli(['run', 'handler.mjs'], {}, { FAKE_TTY: '1' })).stderr).toContain(
      '\u001b[32m',
    )
    const noColor = await cli(['run', 'handler.mjs'], {}, { FAKE_TTY: '1', NO_COLOR: '1' })
    expect(noColor.stderr).not.toContain('\u001b[')
    expect((await cli(['run', 'handler.mjs'])).stderr).not.toContain('\u001b[')
  })
})

describe('snapstart usage', () => {
  it('exits 2 with one line for a bad command line, starting nothing', async () => {
    const result = await cli(['run', 'handler.mjs', '--frozen', '2x'])
    expect(result).toEqual({
      code: 2,
      stdout: '',
      stderr:
        'snapstart: --frozen: "2x" is not a duration; use a number with ms, s or m, such as ' +
        '500ms or 2s\n',
    })
    expect(calls).toEqual([])
  })

  it('prints help and version on stdout', async () => {
    const help = await cli(['-h'])
    expect(help.code).toBe(0)
    expect(help.stdout.startsWith('Usage: snapstart run <handler-file> [options]\n')).toBe(true)
    expect(await cli(['--version'])).toEqual({ code: 0, stdout: `${VERSION}\n`, stderr: '' })
  })
})
