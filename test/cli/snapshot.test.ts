import { spawn } from 'node:child_process'
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { type CliDeps, main, type SnapshotApi } from '../../src/emulator/cli.js'
import {
  type BuiltSnapshot,
  type RestoreResult,
  type RestoreSnapshotOptions,
  SnapshotMismatchError,
} from '../../src/snapshot/index.js'

const root = fileURLToPath(new URL('../..', import.meta.url))
const bin = join(root, 'dist', 'emulator-cli.js')
const dir = mkdtempSync(join(tmpdir(), 'snapstart-snapshot-cli-'))
/** The TMPDIR of the CLI processes: where each run puts its snapshot, and must remove it. */
const scratch = join(dir, 'tmp')

beforeAll(() => {
  writeFileSync(
    join(dir, 'hooks.mjs'),
    [
      "import { registerAfterRestore, registerBeforeSnapshot } from 'middy-snapstart'",
      "console.log('init ran')",
      'registerBeforeSnapshot(async function flush() {})',
      'registerAfterRestore(async function reconnect() {',
      "  if (process.env.FAIL_RESTORE) throw new Error('no route to db')",
      "  console.log('reconnected')",
      '})',
      'export const handler = async (event, context) =>',
      '  ({ event, stage: process.env.STAGE, memory: context.memoryLimitInMB })',
      '',
    ].join('\n'),
  )
  writeFileSync(
    join(dir, 'server.mjs'),
    [
      "import net from 'node:net'",
      "net.createServer().listen(0, '127.0.0.1')",
      "export const handler = async () => 'unreachable'",
      '',
    ].join('\n'),
  )
  writeFileSync(join(dir, 'a.json'), '{"n":1}')
  writeFileSync(join(dir, 'b.json'), '{"n":2}')
  // The handlers import the package by name, as users do.
  mkdirSync(join(dir, 'node_modules'))
  symlinkSync(root, join(dir, 'node_modules', 'middy-snapstart'))
})

beforeEach(() => {
  rmSync(scratch, { recursive: true, force: true })
  mkdirSync(scratch)
})

afterAll(() => {
  rmSync(dir, { recursive: true, force: true })
})

/** Runs the built `snapstart` bin in the fixture folder, with its own TMPDIR. */
function snapstart(args: string[]) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], {
      cwd: dir,
      env: { PATH: process.env.PATH, TMPDIR: scratch },
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk) => (stdout += chunk))
    child.stderr.on('data', (chunk) => (stderr += chunk))
    child.once('close', (code) => resolve({ code, stdout, stderr }))
    child.stdin.end()
  })
}

/** The timeline on stderr, each line reduced to its label, heading or note. */
function timeline(stderr: string): string[] {
  return stderr
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('[') && !line.startsWith('snapstart: '))
    .map((line) => line.replace(/ {2,}(ok|failed|skipped|timed-out) +\d+\.\d ms.*$/, ''))
}

/** The lines the processes wrote, forwarded to stderr with their source. */
function forwarded(stderr: string, source: string): string[] {
  return stderr.split('\n').filter((line) => line.startsWith(`[${source}] `))
}

const lastLine = (text: string) => text.trimEnd().split('\n').at(-1)

describe('snapstart run --snapshot v8', () => {
  it('restores into two environments, each running the hooks and both events', async () => {
    const result = await snapstart([
      'run',
      'hooks.mjs',
      '--snapshot',
      'v8',
      '--environments',
      '2',
      '--event',
      'a.json',
      '--event',
      'b.json',
      '--env',
      'STAGE=dev',
      '--memory',
      '256',
    ])

    expect(result.code, result.stderr).toBe(0)
    expect(
      result.stdout
        .trimEnd()
        .split('\n')
        .map((line) => JSON.parse(line)),
    ).toEqual([
      { environment: 1, response: { event: { n: 1 }, stage: 'dev', memory: '256' } },
      { environment: 1, response: { event: { n: 2 }, stage: 'dev', memory: '256' } },
      { environment: 2, response: { event: { n: 1 }, stage: 'dev', memory: '256' } },
      { environment: 2, response: { event: { n: 2 }, stage: 'dev', memory: '256' } },
    ])
    const note = (text: string) => expect.stringMatching(text)
    const firstResponse = '^ {2}first response \\d+\\.\\d ms after start: \\d+\\.\\d\\d of the cold'
    expect(timeline(result.stderr)).toEqual([
      'build',
      '  bundle',
      '  init',
      '  before-snapshot',
      '    flush',
      note('^ {2}snapshot \\d+\\.\\d MB, build process \\d+\\.\\d ms$'),
      'environment 1',
      '  start + restore',
      '  after-restore',
      '    reconnect',
      '  invoke #1',
      '  invoke #2',
      note(`${firstResponse} start$`),
      'environment 2',
      '  start + restore',
      '  after-restore',
      '    reconnect',
      '  invoke #1',
      '  invoke #2',
      note(`${firstResponse} start$`),
      'cold start',
      '  start + init',
      '  invoke #1',
      note('^ {2}first response \\d+\\.\\d ms after start$'),
    ])
    expect(forwarded(result.stderr, 'build')).toContain('[build] init ran')
    expect(forwarded(result.stderr, 'environment 1')).toContain('[environment 1] reconnected')
    expect(forwarded(result.stderr, 'environment 2')).toContain('[environment 2] reconnected')
    expect(forwarded(result.stderr, 'cold start')).toContain('[cold start] init ran')
    expect(readdirSync(scratch)).toEqual([])
  })

  it('prints the whole run as one document with --json', async () => {
    const result = await snapstart(['run', 'hooks.mjs', '--snapshot', 'v8', '--json'])

    expect(result.code, result.stderr).toBe(0)
    const hook = (name: string) => ({ name, durationMs: expect.any(Number), status: 'ok' })
    const phase = (name: string, budgetMs: number, hooks: unknown[]) => ({
      phase: name,
      startedAt: expect.any(String),
      durationMs: expect.any(Number),
      status: 'ok',
      budgetMs,
      hooks,
    })
    const invocation = {
      index: 0,
      status: 'ok',
      durationMs: expect.any(Number),
      response: { event: {}, memory: '128' },
    }
    expect(JSON.parse(result.stdout)).toEqual({
      handler: 'hooks.mjs',
      mode: 'snapshot-v8',
      events: [{}],
      build: {
        status: 'ok',
        export: 'handler',
        sizeBytes: expect.any(Number),
        bundleMs: expect.any(Number),
        buildMs: expect.any(Number),
        initMs: expect.any(Number),
        beforeSnapshot: phase('beforeSnapshot', 130_000, [hook('flush')]),
        nodeVersion: process.version,
      },
      environments: [
        {
          environment: 1,
          pid: expect.any(Number),
          restoreMs: expect.any(Number),
          firstInvocationMs: expect.any(Number),
          afterRestore: phase('afterRestore', 9000, [hook('reconnect')]),
          responses: [invocation],
          coldRatio: expect.any(Number),
        },
      ],
      coldStart: {
        pid: expect.any(Number),
        initMs: expect.any(Number),
        firstInvocationMs: expect.any(Number),
        response: invocation,
      },
      outcome: { status: 'ok' },
    })
    expect(timeline(result.stderr)).toEqual([])
    expect(readdirSync(scratch)).toEqual([])
  })

  it('exits 1 with the error as it is when the build fails on a live handle', async () => {
    const result = await snapstart(['run', 'server.mjs', '--snapshot', 'v8'])

    expect(result.code).toBe(1)
    expect(result.stdout).toBe('')
    expect(timeline(result.stderr)).toEqual(['build', '  bundle + build'])
    expect(result.stderr).toMatch(/^ {2}bundle \+ build {2}failed /m)
    expect(lastLine(result.stderr)).toBe(
      'snapstart: SnapshotLiveHandlesError: Cannot build a startup snapshot: after the ' +
        'before-snapshot hooks these handles were still alive: TCPServerWrap (a TCP server). ' +
        'Close them in a before-snapshot hook (and reopen them in an after-restore hook; ' +
        'registerResource does both).',
    )
    expect(readdirSync(scratch)).toEqual([])
  })

  it('exits 1 naming the first environment when after-restore hooks fail in both', async () => {
    const args = ['run', 'hooks.mjs', '--snapshot', 'v8', '--environments', '2']
    const result = await snapstart([...args, '--env', 'FAIL_RESTORE=1'])

    expect(result.code).toBe(1)
    expect(result.stdout).toBe('')
    const stopped =
      '  stopped: SnapStartPhaseError: The after-restore hook "reconnect" failed: ' +
      'Error: no route to db'
    expect(timeline(result.stderr).slice(6)).toEqual([
      'environment 1',
      '  after-restore',
      '    reconnect',
      stopped,
      'environment 2',
      '  after-restore',
      '    reconnect',
      stopped,
      'cold start',
      '  start + init',
      '  invoke #1',
      expect.stringMatching(/^ {2}first response \d+\.\d ms after start$/),
    ])
    expect(result.stderr).toMatch(/^ {4}reconnect +failed +\d+\.\d ms/m)
    expect(lastLine(result.stderr)).toBe(
      'snapstart: Runtime.AfterRestoreError: environment 1 of 2 stopped (and 1 more): ' +
        'SnapStartPhaseError: The after-restore hook "reconnect" failed: Error: no route to db ' +
        '(exited with code 65)',
    )
    expect(readdirSync(scratch)).toEqual([])
  })

  it.each([
    [['--snapshot', 'v9'], '--snapshot: "v9" is not a snapshot mode; the accepted value is v8'],
    [
      ['--environments', '2'],
      '--environments needs --snapshot v8: only a real snapshot restores into several processes',
    ],
    [
      ['--snapshot', 'v8', '--environments', '65'],
      '--environments: "65" must be a whole number of processes, 1 to 64',
    ],
    [
      ['--snapshot', 'v8', '--on-demand'],
      '--on-demand cannot be used with --snapshot v8: on-demand mode takes no snapshot',
    ],
    [
      ['--snapshot', 'v8', '--frozen', '1s'],
      '--frozen cannot be used with --snapshot v8: a real snapshot has no frozen pause to hold',
    ],
    [
      ['--snapshot', 'v8', '--while-frozen', 'true'],
      '--while-frozen cannot be used with --snapshot v8: a real snapshot has no frozen pause ' +
        'to run it in',
    ],
  ])('exits 2 for %j with one line on stderr', async (args, message) => {
    expect(await snapstart(['run', 'hooks.mjs', ...args])).toEqual({
      code: 2,
      stdout: '',
      stderr: `snapstart: ${message}\n`,
    })
  })
})

describe('snapstart run --snapshot v8 around the snapshot API', () => {
  let cwd: string
  let built: BuiltSnapshot
  let restoreCalls: RestoreSnapshotOptions[]

  beforeEach(() => {
    cwd = mkdtempSync(join(tmpdir(), 'snapstart-snapshot-api-'))
    writeFileSync(join(cwd, 'handler.mjs'), '')
    restoreCalls = []
  })

  afterEach(() => {
    rmSync(cwd, { recursive: true, force: true })
  })

  /** A stand-in API: the build writes into the directory it is given. */
  function fakeApi(restore: (options: RestoreSnapshotOptions) => RestoreResult): SnapshotApi {
    return {
      async buildSnapshot(options) {
        writeFileSync(join(options.outDir!, 'snapshot.blob'), 'blob')
        built = {
          blob: join(options.outDir!, 'snapshot.blob'),
          bundle: join(options.outDir!, 'bundle.cjs'),
          outDir: options.outDir!,
          handler: join(cwd, 'handler.mjs'),
          export: 'handler',
          sizeBytes: 4,
          bundleMs: 1,
          buildMs: 2,
          initMs: 1,
          beforeSnapshot: {
            phase: 'beforeSnapshot',
            startedAt: '2026-01-01T00:00:00.000Z',
            durationMs: 0,
            status: 'ok',
            budgetMs: 130_000,
            hooks: [],
          },
          execPath: process.execPath,
          nodeVersion: process.version,
          execArgv: [],
          env: options.env ?? {},
        }
        return built
      },
      async restoreSnapshot(_snapshot, options = {}) {
        restoreCalls.push(options)
        return restore(options)
      },
    }
  }

  async function cli(argv: string[], snapshot: SnapshotApi) {
    let stdout = ''
    let stderr = ''
    const deps: CliDeps = {
      startEmulator: () => Promise.reject(new Error('the emulator must not start')),
      stdout: { write: (text: string) => (stdout += text) },
      stderr: { write: (text: string) => (stderr += text) },
      env: {},
      io: {
        cwd,
        isFile: (path) => path === join(cwd, 'handler.mjs') || path.endsWith('.json'),
        readText: () => '{"n":1}',
        readStdin: () => '{}',
      },
      snapshot,
    }
    const code = await main(argv, deps)
    return { code, stdout, stderr }
  }

  const restored = (responses: RestoreResult['environments'][number]['responses']) => ({
    environments: [
      {
        index: 0,
        pid: 1,
        restoreMs: 3,
        firstInvocationMs: 4,
        afterRestore: undefined,
        responses,
        output: '',
      },
    ],
    coldStart: undefined,
    sizeBytes: 4,
    buildMs: 2,
    failed: 0,
  })

  it('removes the snapshot and prints the error as it is when the restore rejects', async () => {
    const mismatch = new SnapshotMismatchError('The node binary that built it is gone.')
    const result = await cli(
      ['run', 'handler.mjs', '--snapshot', 'v8'],
      fakeApi(() => {
        throw mismatch
      }),
    )

    expect(result.code).toBe(1)
    expect(existsSync(built.outDir)).toBe(false)
    expect(lastLine(result.stderr)).toBe(
      'snapstart: SnapshotMismatchError: The node binary that built it is gone.',
    )
  })

  it('gives the memory to the build, --timeout to each process for all its events', async () => {
    const ok = { index: 0, status: 'ok' as const, response: 1, durationMs: 1 }
    const result = await cli(
      ['run', 'handler.mjs', '--snapshot', 'v8', '--memory', '512', '--timeout', '5'],
      fakeApi(() => restored([ok])),
    )

    expect(result.code, result.stderr).toBe(0)
    expect(result.stdout).toBe('1\n')
    expect(built.env).toEqual({ AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '512' })
    expect(restoreCalls).toEqual([
      {
        environments: 1,
        events: [{}],
        onLog: expect.any(Function),
        timeoutMs: 15_000,
        functionTimeoutMs: 5_000,
      },
    ])
    expect(existsSync(built.outDir)).toBe(false)
  })

  it('exits 1 naming the environment and the invocation that failed', async () => {
    const error = { errorType: 'RangeError', errorMessage: 'asked to fail' }
    const result = await cli(
      ['run', 'handler.mjs', '--snapshot', 'v8', '--repeat', '2'],
      fakeApi(() =>
        restored([
          { index: 0, status: 'ok', response: null, durationMs: 1 },
          { index: 1, status: 'error', error, durationMs: 1 },
        ]),
      ),
    )

    expect(result.code).toBe(1)
    expect(result.stdout).toBe(`null\n${JSON.stringify(error)}\n`)
    expect(lastLine(result.stderr)).toBe(
      'snapstart: RangeError: invocation 2 of 2 failed in environment 1: asked to fail',
    )
  })
})
