import { describe, expect, it } from 'vitest'
import {
  type ArgsIo,
  parseCommand,
  parseDuration,
  USAGE,
  UsageError,
} from '../../src/emulator/args.js'

/** A file system with `handler.mjs` and the given files under /project. */
function fakeIo(files: Record<string, string> = {}, stdin = ''): ArgsIo {
  const all: Record<string, string> = { '/project/handler.mjs': '', ...files }
  return {
    cwd: '/project',
    isFile: (path) => path in all,
    readText: (path) => {
      if (!(path in all)) throw Object.assign(new Error('missing'), { code: 'ENOENT' })
      return all[path]!
    },
    readStdin: () => stdin,
  }
}

function parse(argv: string[], io = fakeIo()) {
  return parseCommand(argv, io)
}

function usageError(argv: string[], io = fakeIo()): string {
  try {
    parseCommand(argv, io)
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError)
    return (error as Error).message
  }
  throw new Error(`expected ${argv.join(' ')} to be refused`)
}

describe('parseCommand', () => {
  it('defaults to one {} event, no pause, snap-start mode', () => {
    expect(parse(['run', 'handler.mjs'])).toEqual({
      command: 'run',
      options: {
        handler: 'handler.mjs',
        events: [{}],
        repeat: 1,
        frozenMs: 0,
        onDemand: false,
        env: {},
        json: false,
      },
    })
  })

  it('reads every option', () => {
    const io = fakeIo({ '/project/a.json': '{"a":1}', '/project/b.json': '[2]' })
    const argv = [
      'run',
      'handler.mjs',
      '--export',
      'api.get',
      '--event',
      'a.json',
      '--event',
      'b.json',
      '--repeat',
      '2',
      '--frozen',
      '2s',
      '--while-frozen',
      'echo hi',
      '--env',
      'STAGE=dev',
      '--env',
      'URL=postgres://u@h/db?x=1',
      '--timeout',
      '30',
      '--memory',
      '512',
      '--json',
    ]
    expect(parse(argv, io)).toEqual({
      command: 'run',
      options: {
        handler: 'handler.mjs',
        export: 'api.get',
        events: [{ a: 1 }, [2], { a: 1 }, [2]],
        repeat: 2,
        frozenMs: 2000,
        whileFrozen: 'echo hi',
        onDemand: false,
        env: { STAGE: 'dev', URL: 'postgres://u@h/db?x=1' },
        timeoutSeconds: 30,
        memoryMb: 512,
        json: true,
      },
    })
  })

  it('reads an event from stdin with --event -', () => {
    const command = parse(['run', 'handler.mjs', '--event', '-'], fakeIo({}, '{"from":"stdin"}'))
    expect(command).toMatchObject({ options: { events: [{ from: 'stdin' }] } })
  })

  it('accepts --on-demand, an empty env value, and a later key winning', () => {
    const command = parse(['run', 'handler.mjs', '--on-demand', '--env', 'A=', '--env', 'A=2'])
    expect(command).toMatchObject({ options: { onDemand: true, env: { A: '2' } } })
  })

  it('answers help and version before anything else', () => {
    expect(parse(['--help'])).toEqual({ command: 'help' })
    expect(parse(['run', 'missing.mjs', '-h'])).toEqual({ command: 'help' })
    expect(parse(['--version'])).toEqual({ command: 'version' })
  })

  it.each([
    [
      ['run', 'handler.mjs', '--nope'],
      'unknown option --nope; run snapstart --help for the options',
    ],
    [['run', 'handler.mjs', '-x'], 'unknown option -x; run snapstart --help for the options'],
    [
      ['run', 'handler.mjs', '--repeat'],
      'option --repeat needs a value; run snapstart --help for the options',
    ],
    [
      ['run', 'handler.mjs', '--json=yes'],
      'option --json takes no value; run snapstart --help for the options',
    ],
    [[], 'missing command: try snapstart run <handler-file>; run snapstart --help for the options'],
    [
      ['go', 'handler.mjs'],
      'unknown command "go": the command is run; run snapstart --help for the options',
    ],
    [['run'], 'missing handler file: try snapstart run ./handler.mjs'],
    [
      ['run', 'handler.mjs', 'extra.json'],
      'unexpected argument "extra.json": give one handler file; pass events with --event FILE',
    ],
    [['run', 'nope.mjs'], 'handler file "nope.mjs" not found: check the path (from /project)'],
    [
      ['run', 'handler.mjs', '--event', 'gone.json'],
      'event file "gone.json" cannot be read (ENOENT): check the path and permissions',
    ],
    [['run', 'handler.mjs', '--event', 'bad.json'], 'event file "bad.json" is not JSON ('],
    [
      ['run', 'handler.mjs', '--event', '-', '--event', '-'],
      '--event - (stdin) can be given once; save the other events to files',
    ],
    [
      ['run', 'handler.mjs', '--frozen', '2x'],
      '--frozen: "2x" is not a duration; use a number with ms, s or m, such as 500ms or 2s',
    ],
    [
      ['run', 'handler.mjs', '--frozen', '-1s'],
      'option --frozen got a value starting with -; write it as --frozen=VALUE',
    ],
    [
      ['run', 'handler.mjs', '--frozen', '40000m'],
      '--frozen: "40000m" is too long; the pause can last at most 2147483647 ms (about 24 ' +
        'days), such as 10m',
    ],
    [
      ['run', 'handler.mjs', '--frozen=-1s'],
      '--frozen: "-1s" is not a duration; use a number with ms, s or m, such as 500ms or 2s',
    ],
    [['run', 'handler.mjs', '--repeat', '0'], '--repeat: "0" is not a whole number of at least 1'],
    [
      ['run', 'handler.mjs', '--repeat', '1.5'],
      '--repeat: "1.5" is not a whole number of at least 1',
    ],
    [
      ['run', 'handler.mjs', '--env', 'NOVALUE'],
      '--env: "NOVALUE" is not KEY=VALUE (KEY of letters, digits, _): try --env STAGE=dev',
    ],
    [
      ['run', 'handler.mjs', '--env', '1A=b'],
      '--env: "1A=b" is not KEY=VALUE (KEY of letters, digits, _): try --env STAGE=dev',
    ],
    [
      ['run', 'handler.mjs', '--env', '=b'],
      '--env: "=b" is not KEY=VALUE (KEY of letters, digits, _): try --env STAGE=dev',
    ],
    [
      ['run', 'handler.mjs', '--timeout', '0'],
      '--timeout: "0" must be a whole number of seconds, 1 to 900',
    ],
    [
      ['run', 'handler.mjs', '--timeout', '901'],
      '--timeout: "901" must be a whole number of seconds, 1 to 900',
    ],
    [
      ['run', 'handler.mjs', '--memory', '64'],
      '--memory: "64" must be a whole number of MB, 128 to 10240',
    ],
    [
      ['run', 'handler.mjs', '--export', 'a..b'],
      '--export: "a..b" is not an export name; use a name such as handler or api.get',
    ],
    [
      ['run', 'handler.mjs', '--on-demand', '--frozen', '1s'],
      '--frozen cannot be used with --on-demand: on-demand mode never freezes',
    ],
    [
      ['run', 'handler.mjs', '--on-demand', '--while-frozen', 'x'],
      '--while-frozen cannot be used with --on-demand: on-demand mode never freezes',
    ],
    [
      ['run', 'handler.mjs', '--while-frozen', ' '],
      '--while-frozen needs a command, for example --while-frozen "./kill.sh"',
    ],
  ])('refuses %j with a one-line message', (argv, message) => {
    // Prefix match: only the JSON parser's own reason (it varies by Node version) follows.
    const io = fakeIo({ '/project/bad.json': '{oops' })
    const text = usageError(argv, io)
    expect(text.slice(0, message.length)).toBe(message)
    expect(text).not.toContain('\n')
  })
})

describe('parseCommand with --snapshot', () => {
  it('is described in the usage, with the shape of tagged response lines', () => {
    expect(USAGE).toContain('  --snapshot v8 ')
    expect(USAGE).toContain('  --environments N ')
    expect(USAGE).toContain('{"environment":1,"response":...}')
    expect(USAGE).toContain('{"environment":1,"error":{...}}')
  })

  it('reads --snapshot v8 with one environment by default', () => {
    expect(parse(['run', 'handler.mjs', '--snapshot', 'v8'])).toEqual({
      command: 'run',
      options: {
        handler: 'handler.mjs',
        events: [{}],
        repeat: 1,
        frozenMs: 0,
        onDemand: false,
        env: {},
        json: false,
        snapshot: { mode: 'v8', environments: 1 },
      },
    })
  })

  it('reads --environments and keeps the options that apply to a snapshot', () => {
    const io = fakeIo({ '/project/a.json': '{"a":1}' })
    const argv = ['run', 'handler.mjs', '--snapshot=v8', '--environments', '64', '--event']
    const command = parse(
      [...argv, 'a.json', '--repeat', '2', '--env', 'A=1', '--timeout', '5', '--memory', '256'],
      io,
    )
    expect(command).toMatchObject({
      options: {
        events: [{ a: 1 }, { a: 1 }],
        env: { A: '1' },
        timeoutSeconds: 5,
        memoryMb: 256,
        snapshot: { mode: 'v8', environments: 64 },
      },
    })
  })

  it.each([
    [['--snapshot', 'V8'], '--snapshot: "V8" is not a snapshot mode; the accepted value is v8'],
    [['--snapshot', ''], '--snapshot: "" is not a snapshot mode; the accepted value is v8'],
    [
      ['--environments', '2'],
      '--environments needs --snapshot v8: only a real snapshot restores into several processes',
    ],
    [
      ['--snapshot', 'v8', '--environments', '0'],
      '--environments: "0" must be a whole number of processes, 1 to 64',
    ],
    [
      ['--snapshot', 'v8', '--environments', '1.5'],
      '--environments: "1.5" must be a whole number of processes, 1 to 64',
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
      ['--snapshot', 'v8', '--frozen', '0'],
      '--frozen cannot be used with --snapshot v8: a real snapshot has no frozen pause to hold',
    ],
    [
      ['--snapshot', 'v8', '--while-frozen', 'echo hi'],
      '--while-frozen cannot be used with --snapshot v8: a real snapshot has no frozen pause ' +
        'to run it in',
    ],
  ])('refuses %j with a one-line message', (argv, message) => {
    expect(usageError(['run', 'handler.mjs', ...argv])).toBe(message)
  })
})

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['2s', 2000],
    ['1.5s', 1500],
    ['1m', 60_000],
    ['250', 250],
    ['0', 0],
  ])('reads %s as %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms)
  })

  it.each(['2x', '', 's', '1h', '1 s', '-5'])('refuses %j', (text) => {
    expect(() => parseDuration(text)).toThrow(UsageError)
  })
})

describe('--env and the emulator’s own variables', () => {
  it.each([
    [
      'AWS_LAMBDA_RUNTIME_API=127.0.0.1:9',
      '--env: AWS_LAMBDA_RUNTIME_API is set by the emulator and cannot be changed: the ' +
        'emulator points the runtime at its own Runtime API',
    ],
    [
      '_HANDLER=other.handler',
      '--env: _HANDLER is set by the emulator and cannot be changed: name the export with ' +
        '--export NAME and the file with the handler argument',
    ],
    [
      'LAMBDA_TASK_ROOT=/tmp',
      '--env: LAMBDA_TASK_ROOT is set by the emulator and cannot be changed: it is the ' +
        "handler file's folder: pass the handler file from there",
    ],
    [
      'AWS_LAMBDA_INITIALIZATION_TYPE=on-demand',
      '--env: AWS_LAMBDA_INITIALIZATION_TYPE is set by the emulator and cannot be changed: ' +
        'use --on-demand for on-demand mode',
    ],
  ])('refuses --env %s, naming the key and what to use instead', (pair, message) => {
    expect(usageError(['run', 'handler.mjs', '--env', pair])).toBe(message)
  })
})

describe('the handler argument', () => {
  it('says a directory is a directory, and what to pass instead', () => {
    const io = { ...fakeIo(), isDirectory: (path: string) => path === '/project/adir' }
    expect(usageError(['run', 'adir'], io)).toBe(
      '"adir" is a directory: pass the handler file inside it, for example ' +
        'snapstart run adir/index.mjs',
    )
  })

  it('documents in --help that --while-frozen does not wait for background processes', () => {
    expect(USAGE).toContain(
      '  --while-frozen CMD    run CMD through the shell during the frozen pause; the pause ' +
        'lasts\n                        until the shell exits (processes it leaves in the ' +
        'background are\n                        not waited for), and the run stops if it fails',
    )
  })
})
