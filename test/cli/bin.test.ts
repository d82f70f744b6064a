import { spawn } from 'node:child_process'
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { processState } from '../emulator/process-state.js'

const root = fileURLToPath(new URL('../..', import.meta.url))
const bin = join(root, 'dist', 'emulator-cli.js')
const dir = mkdtempSync(join(tmpdir(), 'snapstart-bin-'))
const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'))

beforeAll(() => {
  writeFileSync(join(dir, 'handler.mjs'), 'export const handler = async (event) => ({ event })\n')
  writeFileSync(join(dir, 'event.json'), '{"n":1}')
  writeFileSync(join(dir, 'broken.json'), '{"n":')
  // One byte over Lambda's 6 291 456-byte limit for a synchronous invocation payload.
  writeFileSync(join(dir, 'big.json'), JSON.stringify('x'.repeat(6_291_457 - 2)))
  mkdirSync(join(dir, 'adir'))
  // Two modules named "orders": Lambda's runtime would load orders.js for both.
  writeFileSync(join(dir, 'orders.js'), 'export const handler = async () => "orders.js"\n')
  writeFileSync(join(dir, 'orders.mjs'), 'export const handler = async () => "orders.mjs"\n')
  writeFileSync(join(dir, 'notes.txt'), 'export const handler = async () => "notes"\n')
  writeFileSync(
    join(dir, 'hooks.mjs'),
    [
      "import { registerAfterRestore, registerBeforeSnapshot } from 'middy-snapstart'",
      "registerBeforeSnapshot(async function flush() { process.stdout.write('flush ran\\n') })",
      'registerAfterRestore(async function reconnect() {',
      "  if (process.env.FAIL_RESTORE) throw new Error('no route to db')",
      '})',
      'export const handler = async (event) => ({ event, pid: process.pid })',
      '',
    ].join('\n'),
  )
  writeFileSync(
    join(dir, 'typed.ts'),
    'export const handler = async (event: { name: string }): Promise<string> =>\n' +
      "  'hi ' + event.name\n",
  )
  // The handlers import the package by name, as users do.
  mkdirSync(join(dir, 'node_modules'))
  symlinkSync(root, join(dir, 'node_modules', 'middy-snapstart'))
})

afterAll(() => {
  rmSync(dir, { recursive: true, force: true })
})

/** Runs the built `snapstart` bin in the fixture folder. */
function snapstart(args: string[], stdin = '') {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], {
      cwd: dir,
      env: { PATH: process.env.PATH },
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk) => (stdout += chunk))
    child.stderr.on('data', (chunk) => (stderr += chunk))
    child.once('close', (code) => resolve({ code, stdout, stderr }))
    child.stdin.end(stdin)
  })
}

describe('the snapstart bin', () => {
  it('prints its version', async () => {
    expect(await snapstart(['--version'])).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' })
  })

  it('prints the usage with -h', async () => {
    const result = await snapstart(['-h'])
    expect(result.code).toBe(0)
    expect(result.stdout).toContain('--while-frozen CMD')
  })

  it.each([
    [
      ['run', 'handler.mjs', '--bogus'],
      'unknown option --bogus; run snapstart --help for the options',
    ],
    [['run', 'missing.mjs'], `handler file "missing.mjs" not found: check the path (from ${dir})`],
    [
      ['run', 'handler.mjs', '--event', 'nope.json'],
      'event file "nope.json" cannot be read (ENOENT): check the path and permissions',
    ],
    [['run', 'handler.mjs', '--repeat', '0'], '--repeat: "0" is not a whole number of at least 1'],
    [
      ['run', 'handler.mjs', '--env', 'oops'],
      '--env: "oops" is not KEY=VALUE (KEY of letters, digits, _): try --env STAGE=dev',
    ],
    [
      ['run', 'handler.mjs', '--env', 'AWS_LAMBDA_RUNTIME_API=127.0.0.1:9'],
      '--env: AWS_LAMBDA_RUNTIME_API is set by the emulator and cannot be changed: the ' +
        'emulator points the runtime at its own Runtime API',
    ],
    [
      ['run', 'handler.mjs', '--env', '_HANDLER=x.y'],
      '--env: _HANDLER is set by the emulator and cannot be changed: name the export with ' +
        '--export NAME and the file with the handler argument',
    ],
    [
      ['run', 'adir'],
      '"adir" is a directory: pass the handler file inside it, for example ' +
        'snapstart run adir/index.mjs',
    ],
    [
      ['run', 'orders.mjs'],
      'orders.mjs is not the file that would run: Lambda names the module "orders" without its ' +
        'extension, and orders.js next to it comes first (.js, .mjs, .cjs, .ts, .mts, .cts); ' +
        'rename one of them',
    ],
    [
      ['run', 'notes.txt'],
      'the handler must be a .js, .mjs, .cjs, .ts, .mts, .cts file, got notes.txt',
    ],
  ])('exits 2 for %j with one line on stderr', async (args, message) => {
    expect(await snapstart(args)).toEqual({
      code: 2,
      stdout: '',
      stderr: `snapstart: ${message}\n`,
    })
  })

  it('exits 2 for an event on stdin that is not JSON', async () => {
    const result = await snapstart(['run', 'handler.mjs', '--event', '-'], '{"n":')
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(
      /^snapstart: event from stdin is not JSON \(.+\): fix it or pass another file\n$/,
    )
  })
})

/** The step labels of a timeline on stderr, in order; hooks keep their indent. */
function labels(stderr: string): string[] {
  return stderr.split('\n').flatMap((line) => {
    const match = /^(.+?) {2,}(ok|failed|skipped|timed-out) +\d+\.\d ms/.exec(line)
    return match ? [match[1]!] : []
  })
}

describe('snapstart run with the real runtime', () => {
  it('runs the whole lifecycle, pausing while the --while-frozen command runs', async () => {
    // Signal 0 checks that the pid given to the command is a live process.
    const alive = 'process.kill(Number(process.env.SNAPSTART_RUNTIME_PID), 0)'
    const command = `node -e "${alive}" && echo cmd-ok`
    const args = ['run', 'hooks.mjs', '--event', 'event.json', '--repeat', '2', '--frozen', '100ms']
    const result = await snapstart([...args, '--while-frozen', command])

    expect(result.code, result.stderr).toBe(0)
    const responses = result.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line))
    expect(responses).toEqual([
      { event: { n: 1 }, pid: expect.any(Number) },
      { event: { n: 1 }, pid: responses[0].pid },
    ])
    expect(result.stderr).toContain('flush ran\n')
    expect(result.stderr).toContain('cmd-ok\n')
    expect(labels(result.stderr)).toEqual([
      'init',
      'before-snapshot',
      '  flush',
      'frozen',
      'restore',
      'after-restore',
      '  reconnect',
      'invoke #1',
      'invoke #2',
    ])
    expect(result.stderr).toMatch(/^frozen +ok +(\d{4,}|1\d\d|[2-9]\d\d)\.\d ms/m)
    expect(result.stderr).toMatch(/^total \d+\.\d ms, restore to first response \d+\.\d ms$/m)
  })

  it('exits 1 with the Lambda error type when an after-restore hook fails', async () => {
    const result = await snapstart(['run', 'hooks.mjs', '--env', 'FAIL_RESTORE=1'])
    expect(result.code).toBe(1)
    expect(result.stdout).toBe('')
    expect(result.stderr).toMatch(/^ {2}reconnect +failed /m)
    expect(result.stderr.trimEnd().split('\n').at(-1)).toBe(
      'snapstart: Runtime.AfterRestoreError: The after-restore hook "reconnect" failed: ' +
        'Error: no route to db (runtime exited with code 65)',
    )
  })

  it('runs a TypeScript handler as it is', async () => {
    const result = await snapstart(['run', 'typed.ts', '--event', '-'], '{"name":"ts"}')
    expect(result.code, result.stderr).toBe(0)
    expect(result.stdout).toBe('"hi ts"\n')
  })

  it('prints one JSON document with --json, in on-demand mode without a restore', async () => {
    const result = await snapstart(['run', 'handler.mjs', '--on-demand', '--json'])
    expect(result.code, result.stderr).toBe(0)
    const document = JSON.parse(result.stdout)
    expect(document).toEqual({
      handler: 'handler.mjs',
      mode: 'on-demand',
      events: [{}],
      responses: [
        {
          requestId: expect.any(String),
          status: 'ok',
          response: { event: {} },
          durationMs: expect.any(Number),
        },
      ],
      reports: {},
      timeline: [
        expect.objectContaining({ kind: 'init', status: 'ok' }),
        expect.objectContaining({ kind: 'invoke', status: 'ok' }),
      ],
      outcome: { status: 'ok' },
    })
  })
})

describe('snapstart run limits and background processes', () => {
  it('reports an event over 6 MB on its own line and sends the next events', async () => {
    const events = ['--event', 'event.json', '--event', 'big.json', '--event', 'event.json']
    const result = await snapstart(['run', 'handler.mjs', ...events])
    const message =
      "The event is 6291457 bytes, over Lambda's limit of 6291456 bytes (6 MB) for a " +
      'synchronous invocation payload; it was not sent'

    expect(result.code).toBe(1)
    expect(
      result.stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line)),
    ).toEqual([
      { event: { n: 1 } },
      { errorType: 'RequestEntityTooLargeException', errorMessage: message },
      { event: { n: 1 } },
    ])
    expect(result.stderr.trimEnd().split('\n').at(-1)).toBe(
      `snapstart: RequestEntityTooLargeException: invocation 2 of 3 failed: ${message}`,
    )
  })

  it('ends the --while-frozen pause when the command exits, not its background jobs', {
    timeout: 10_000,
  }, async () => {
    const pidFile = join(dir, 'background.pid')
    const command = `sleep 60 & echo $! > ${pidFile}`
    try {
      const result = await snapstart(['run', 'handler.mjs', '--json', '--while-frozen', command])

      expect(result.code, result.stderr).toBe(0)
      const document = JSON.parse(result.stdout)
      expect(document.whileFrozen).toEqual({
        command,
        exitCode: 0,
        signal: null,
        durationMs: expect.any(Number),
      })
      expect(document.responses).toEqual([expect.objectContaining({ status: 'ok' })])
      expect(processState(Number(readFileSync(pidFile, 'utf8')))).toBe('alive')
    } finally {
      if (existsSync(pidFile)) process.kill(Number(readFileSync(pidFile, 'utf8')), 'SIGKILL')
    }
  })
})

describe('an interrupted snapstart run', () => {
  it('stops the runtime and the --while-frozen command on SIGINT, exiting 130', async () => {
    const child = spawn(
      process.execPath,
      [
        bin,
        'run',
        'handler.mjs',
        '--while-frozen',
        'echo "pids $SNAPSTART_RUNTIME_PID $$"; sleep 60',
      ],
      { cwd: dir, env: { PATH: process.env.PATH } },
    )
    const pids = await new Promise<number[]>((resolve) => {
      let stderr = ''
      child.stderr.on('data', (chunk) => {
        stderr += chunk
        const match = /pids (\d+) (\d+)\n/.exec(stderr)
        if (match) resolve([Number(match[1]), Number(match[2])])
      })
    })
    const exit = new Promise((resolve) => child.once('exit', (code) => resolve(code)))

    child.kill('SIGINT')

    expect(await exit).toBe(130)
    for (const pid of pids) expect(() => process.kill(pid, 0)).toThrow(/ESRCH/)
  })
})
