import { readFileSync, statSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { MAX_TIMER_MS } from '../milliseconds.js'
import { EXPORT_PATH } from '../runtime/export-path.js'
import { MAX_ENVIRONMENTS } from '../snapshot/restore.js'
import { handlerFileProblem } from './handler-file.js'

/** What `snapstart run` was asked to do, after validation. */
export interface RunOptions {
  /** The handler file as given on the command line. */
  handler: string
  /** The export to call, when `--export` was given. */
  export?: string
  /** The events to send, in order, already repeated `--repeat` times. */
  events: unknown[]
  /** How many times the list of events is sent, default 1. */
  repeat: number
  /** The least time the snapshot point is held, in milliseconds, default 0. */
  frozenMs: number
  /** Shell command run while the runtime is frozen. */
  whileFrozen?: string
  /** Start in on-demand mode: no hooks, no restore. */
  onDemand: boolean
  /** `--env` variables for the function, in the order given (a later key wins). */
  env: Record<string, string>
  /** Function timeout in seconds, when `--timeout` was given. */
  timeoutSeconds?: number
  /** Memory size in MB, when `--memory` was given. */
  memoryMb?: number
  /** Print the whole run as one JSON document on stdout. */
  json: boolean
  /** Take a real snapshot (`--snapshot v8`) instead of pausing one runtime process. */
  snapshot?: SnapshotRunOptions
}

/** What `--snapshot` and `--environments` asked for. */
export interface SnapshotRunOptions {
  /** The snapshot technique; `v8` is a Node startup snapshot. */
  mode: SnapshotMode
  /** How many processes the snapshot is restored into, 1 to 64, default 1. */
  environments: number
}

/** The values `--snapshot` accepts. */
export const SNAPSHOT_MODES = ['v8'] as const

/** A value `--snapshot` accepts. */
export type SnapshotMode = (typeof SNAPSHOT_MODES)[number]

/** A parsed command line. */
export type Command =
  | { command: 'help' }
  | { command: 'version' }
  | { command: 'run'; options: RunOptions }

/** A command line the CLI cannot run. The message is one line saying what to change. */
export class UsageError extends Error {
  override name = 'UsageError'
}

/** How the parser reads files; replaced in tests. */
export interface ArgsIo {
  /** Directory relative paths start from. */
  cwd: string
  /** Whether `path` is an existing regular file. */
  isFile(path: string): boolean
  /** Whether `path` is an existing directory; when absent, no directory is assumed. */
  isDirectory?(path: string): boolean
  /** The text of `path`; throws when it cannot be read. */
  readText(path: string): string
  /** All of standard input, as text. */
  readStdin(): string
}

/** The usage text printed by `--help`. */
export const USAGE = `Usage: snapstart run <handler-file> [options]

Runs a Lambda handler through the SnapStart lifecycle locally: init, before-snapshot hooks,
a frozen pause, restore, after-restore hooks, then the events. Responses go to stdout, one
JSON line each; the timeline goes to stderr.

Options:
  --export NAME         export to call (default: handler); dots reach nested exports
  --event FILE|-        JSON event file, or - for stdin; repeatable (default: one {} event)
  --repeat N            send the events N times (default: 1)
  --frozen DURATION     hold the snapshot point at least this long: 500ms, 2s, 1m, or a
                        number of milliseconds (default: 0)
  --while-frozen CMD    run CMD through the shell during the frozen pause; the pause lasts
                        until the shell exits (processes it leaves in the background are
                        not waited for), and the run stops if it fails
  --on-demand           start in on-demand mode: no hooks, no restore
  --snapshot v8         take a real snapshot instead of a pause: see below
  --environments N      with --snapshot v8, restore into N processes, 1 to 64 (default: 1)
  --env K=V             environment variable for the function; repeatable. The emulator's
                        own variables are refused: AWS_LAMBDA_RUNTIME_API, _HANDLER (use
                        --export), LAMBDA_TASK_ROOT (the handler file's folder),
                        AWS_LAMBDA_INITIALIZATION_TYPE (use --on-demand)
  --timeout S           function timeout in seconds, 1 to 900 (default: 3)
  --memory MB           memory size in MB, 128 to 10240 (default: 128)
  --json                print the whole run as one JSON document on stdout
  -h, --help            show this help
  --version             show the version

--snapshot v8 bundles the handler (esbuild must be installed), builds a Node startup
snapshot with init and the before-snapshot hooks run during the build, restores it into N
processes in parallel (after-restore hooks, then the events), and runs the same handler
once as a cold start for comparison. Processes' output goes to stderr, each line prefixed
[build], [environment N] or [cold start]. With one environment, stdout has one line per
event as above; with more, each line is tagged: {"environment":1,"response":...} for a
response, {"environment":1,"error":{...}} for an error (environments numbered from 1, in
order). --frozen, --while-frozen and --on-demand do not apply; --timeout limits each
restored process as a whole (10 s for the restore plus S per event).

Exit status: 0 when every phase and invocation succeeded, 1 when one failed, 2 for a
command line that cannot run.`

const OPTIONS = {
  export: { type: 'string' },
  snapshot: { type: 'string' },
  environments: { type: 'string' },
  event: { type: 'string', multiple: true },
  repeat: { type: 'string' },
  frozen: { type: 'string' },
  'while-frozen': { type: 'string' },
  'on-demand': { type: 'boolean' },
  env: { type: 'string', multiple: true },
  timeout: { type: 'string' },
  memory: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
} as const

const HELP_HINT = 'run snapstart --help for the options'

/**
 * Parses and validates `argv` (the arguments after the program name). Reads the event files
 * and checks that the handler file exists through `io`. Throws `UsageError` with a one-line
 * message for any input it cannot run.
 */
export function parseCommand(argv: readonly string[], io: ArgsIo = nodeIo()): Command {
  const { values, positionals } = parseStrict(argv)
  if (values.help) return { command: 'help' }
  if (values.version) return { command: 'version' }

  const [command, handler, ...extra] = positionals
  if (command === undefined) {
    throw new UsageError(`missing command: try snapstart run <handler-file>; ${HELP_HINT}`)
  }
  if (command !== 'run') {
    throw new UsageError(`unknown command "${command}": the command is run; ${HELP_HINT}`)
  }
  if (handler === undefined) {
    throw new UsageError('missing handler file: try snapstart run ./handler.mjs')
  }
  if (extra.length > 0) {
    throw new UsageError(
      `unexpected argument "${extra[0]}": give one handler file; pass events with --event FILE`,
    )
  }
  const handlerPath = resolve(io.cwd, handler)
  if (!io.isFile(handlerPath)) {
    if (io.isDirectory?.(handlerPath) === true) {
      throw new UsageError(
        `"${handler}" is a directory: pass the handler file inside it, for example ` +
          `snapstart run ${join(handler, 'index.mjs')}`,
      )
    }
    throw new UsageError(`handler file "${handler}" not found: check the path (from ${io.cwd})`)
  }
  const problem = handlerFileProblem(handlerPath)
  if (problem !== undefined) throw new UsageError(problem)

  const snapshot = parseSnapshot(values)
  const onDemand = values['on-demand'] === true
  if (onDemand && values.frozen !== undefined) {
    throw new UsageError('--frozen cannot be used with --on-demand: on-demand mode never freezes')
  }
  if (onDemand && values['while-frozen'] !== undefined) {
    throw new UsageError(
      '--while-frozen cannot be used with --on-demand: on-demand mode never freezes',
    )
  }
  if (values['while-frozen'] !== undefined && values['while-frozen'].trim() === '') {
    throw new UsageError('--while-frozen needs a command, for example --while-frozen "./kill.sh"')
  }

  const repeat = values.repeat === undefined ? 1 : parseCount('--repeat', values.repeat)
  const events = readEvents(values.event ?? [], io)
  const options: RunOptions = {
    handler,
    events: Array.from({ length: repeat }, () => events).flat(),
    repeat,
    frozenMs: values.frozen === undefined ? 0 : parseDuration(values.frozen),
    onDemand,
    env: parseEnv(values.env ?? []),
    json: values.json === true,
  }
  if (snapshot !== undefined) options.snapshot = snapshot
  if (values.export !== undefined) options.export = parseExport(values.export)
  if (values['while-frozen'] !== undefined) options.whileFrozen = values['while-frozen']
  if (values.timeout !== undefined) {
    options.timeoutSeconds = parseRange('--timeout', values.timeout, 1, 900, 'seconds')
  }
  if (values.memory !== undefined) {
    options.memoryMb = parseRange('--memory', values.memory, 128, 10_240, 'MB')
  }
  return { command: 'run', options }
}

/** The options of the snapshot mode, checked against the options it cannot take. */
function parseSnapshot(values: {
  snapshot?: string
  environments?: string
  'on-demand'?: boolean
  frozen?: string
  'while-frozen'?: string
}): SnapshotRunOptions | undefined {
  if (values.snapshot === undefined) {
    if (values.environments === undefined) return undefined
    throw new UsageError(
      '--environments needs --snapshot v8: only a real snapshot restores into several processes',
    )
  }
  const mode = SNAPSHOT_MODES.find((accepted) => accepted === values.snapshot)
  if (mode === undefined) {
    throw new UsageError(
      `--snapshot: "${values.snapshot}" is not a snapshot mode; the accepted value is v8`,
    )
  }
  const conflict = values['on-demand']
    ? ['--on-demand', 'on-demand mode takes no snapshot']
    : values.frozen !== undefined
      ? ['--frozen', 'a real snapshot has no frozen pause to hold']
      : values['while-frozen'] !== undefined
        ? ['--while-frozen', 'a real snapshot has no frozen pause to run it in']
        : undefined
  if (conflict !== undefined) {
    throw new UsageError(`${conflict[0]} cannot be used with --snapshot v8: ${conflict[1]}`)
  }
  const environments =
    values.environments === undefined
      ? 1
      : parseRange('--environments', values.environments, 1, MAX_ENVIRONMENTS, 'processes')
  return { mode, environments }
}

/**
 * Milliseconds in a duration: `500ms`, `2s`, `1.5s`, `1m`, or a bare number of
 * milliseconds. Throws `UsageError` for anything else.
 */
export function parseDuration(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim())
  if (match === null) {
    throw new UsageError(
      `--frozen: "${text}" is not a duration; use a number with ms, s or m, such as 500ms or 2s`,
    )
  }
  const unit = match[2] ?? 'ms'
  const factor = unit === 'm' ? 60_000 : unit === 's' ? 1000 : 1
  const ms = Number(match[1]) * factor
  if (ms > MAX_TIMER_MS) {
    throw new UsageError(
      `--frozen: "${text}" is too long; the pause can last at most ${MAX_TIMER_MS} ms ` +
        '(about 24 days), such as 10m',
    )
  }
  return ms
}

function parseStrict(argv: readonly string[]) {
  try {
    return parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true })
  } catch (error) {
    throw new UsageError(describeParseError(error))
  }
}

/** Turns `parseArgs`'s multi-sentence messages into one line that says what to do. */
function describeParseError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error)
  const code = (error as { code?: string }).code
  const option = /'(-[^' ]*)/.exec(message)?.[1] ?? 'an option'
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return `unknown option ${option}; ${HELP_HINT}`
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    if (/argument missing/.test(message)) return `option ${option} needs a value; ${HELP_HINT}`
    if (/ambiguous/.test(message)) {
      return `option ${option} got a value starting with -; write it as ${option}=VALUE`
    }
    return `option ${option} takes no value; ${HELP_HINT}`
  }
  return `${message.split('\n')[0]}; ${HELP_HINT}`
}

function parseCount(flag: string, text: string): number {
  if (!/^\d+$/.test(text) || Number(text) < 1) {
    throw new UsageError(`${flag}: "${text}" is not a whole number of at least 1`)
  }
  return Number(text)
}

function parseRange(flag: string, text: string, min: number, max: number, unit: string): number {
  const value = /^\d+$/.test(text) ? Number(text) : Number.NaN
  if (!(value >= min && value <= max)) {
    throw new UsageError(`${flag}: "${text}" must be a whole number of ${unit}, ${min} to ${max}`)
  }
  return value
}

function parseExport(text: string): string {
  if (!EXPORT_PATH.test(text)) {
    throw new UsageError(
      `--export: "${text}" is not an export name; use a name such as handler or api.get`,
    )
  }
  return text
}

/** Variables the emulator sets itself, with what to use instead of `--env`. */
const RESERVED_ENV: Record<string, string> = {
  AWS_LAMBDA_RUNTIME_API: 'the emulator points the runtime at its own Runtime API',
  _HANDLER: 'name the export with --export NAME and the file with the handler argument',
  LAMBDA_TASK_ROOT: "it is the handler file's folder: pass the handler file from there",
  AWS_LAMBDA_INITIALIZATION_TYPE: 'use --on-demand for on-demand mode',
}

function parseEnv(pairs: readonly string[]): Record<string, string> {
  const env: Record<string, string> = {}
  for (const pair of pairs) {
    const equals = pair.indexOf('=')
    const key = equals === -1 ? pair : pair.slice(0, equals)
    if (equals === -1 || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) {
      throw new UsageError(
        `--env: "${pair}" is not KEY=VALUE (KEY of letters, digits, _): try --env STAGE=dev`,
      )
    }
    const instead = Object.hasOwn(RESERVED_ENV, key) ? RESERVED_ENV[key] : undefined
    if (instead !== undefined) {
      throw new UsageError(`--env: ${key} is set by the emulator and cannot be changed: ${instead}`)
    }
    env[key] = pair.slice(equals + 1)
  }
  return env
}

function readEvents(sources: readonly string[], io: ArgsIo): unknown[] {
  if (sources.filter((source) => source === '-').length > 1) {
    throw new UsageError('--event - (stdin) can be given once; save the other events to files')
  }
  if (sources.length === 0) return [{}]
  return sources.map((source) => readEvent(source, io))
}

function readEvent(source: string, io: ArgsIo): unknown {
  const label = source === '-' ? 'event from stdin' : `event file "${source}"`
  let text: string
  try {
    text = source === '-' ? io.readStdin() : io.readText(resolve(io.cwd, source))
  } catch (error) {
    const reason = (error as { code?: string }).code ?? 'unreadable'
    throw new UsageError(`${label} cannot be read (${reason}): check the path and permissions`)
  }
  try {
    return JSON.parse(text)
  } catch (error) {
    const reason = error instanceof Error ? error.message.split('\n')[0] : 'invalid'
    throw new UsageError(`${label} is not JSON (${reason}): fix it or pass another file`)
  }
}

/** The `ArgsIo` of a real process. */
export function nodeIo(): ArgsIo {
  return {
    cwd: process.cwd(),
    isFile: (path) => {
      try {
        return statSync(path).isFile()
      } catch {
        return false
      }
    },
    isDirectory: (path) => {
      try {
        return statSync(path).isDirectory()
      } catch {
        return false
      }
    },
    readText: (path) => readFileSync(path, 'utf8'),
    readStdin: () => readFileSync(0, 'utf8'),
  }
}
