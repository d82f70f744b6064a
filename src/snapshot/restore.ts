import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { checkEnvironment } from '../lambda-environment.js'
import { checkMilliseconds } from '../milliseconds.js'
import { SNAPSHOT_META, type SnapshotMeta, snapshotEnvironment } from './build.js'
import { SnapshotAbortedError, SnapshotError, SnapshotMismatchError } from './errors.js'
import { find, type ProcessRun, runProcess } from './process.js'
import { CHANNEL_FD, DEFAULT_FUNCTION_TIMEOUT_MS } from './protocol.js'
import type {
  BuiltSnapshot,
  ColdStart,
  RestoredEnvironment,
  RestoreResult,
  RestoreSnapshotOptions,
  SnapshotInvocation,
  SnapshotProcessFailure,
} from './types.js'

/** Default time limit of one restored (or cold-started) process, in milliseconds. */
export const RESTORE_TIMEOUT_MS = 30_000

/** The most environments one call restores. */
export const MAX_ENVIRONMENTS = 64

const OPTIONS = new Set([
  'environments',
  'events',
  'env',
  'timeoutMs',
  'functionTimeoutMs',
  'coldStart',
  'onLog',
  'signal',
])

let eventFiles = 0

/** How the names of the event files a restore writes beside the blob start. */
export const EVENTS_PREFIX = 'events-'

/**
 * Restores a snapshot from `buildSnapshot` into `environments` processes started in parallel
 * (`node --snapshot-blob <blob>`, with the flags it was built with). Each runs the
 * after-restore hooks, then every event in turn, then exits. Then, unless
 * `coldStart: false`, the same bundle runs in a plain node process (init plus the first
 * event) for comparison.
 *
 * `snapshot` is the `BuiltSnapshot`, or the path of its blob or directory (read from
 * `snapshot.json`, then `options.env` must give the build's variables again: the file keeps
 * their names only). A failing environment does not reject: its `failure` says why and
 * `failed` counts it. Rejects with `SnapshotMismatchError` when the node binary that built
 * the snapshot is gone, `SnapshotAbortedError` once `signal` is aborted (every process it
 * started is killed, and no other is started), `TypeError` for bad options. Processes
 * still running when this process exits are killed too.
 */
export async function restoreSnapshot(
  snapshot: BuiltSnapshot | string,
  options: RestoreSnapshotOptions = {},
): Promise<RestoreResult> {
  validate(options)
  const built = typeof snapshot === 'string' ? readSnapshot(snapshot, options.env) : snapshot
  if (!existsSync(built.execPath)) {
    throw new SnapshotMismatchError(
      `The node binary that built the snapshot (${built.execPath}, ${built.nodeVersion}) is ` +
        'gone, and no other version can restore it. Build the snapshot again.',
    )
  }
  if (!existsSync(built.blob)) {
    throw new SnapshotError(`The snapshot blob ${built.blob} is missing; build it again.`)
  }
  const count = options.environments ?? 1
  const events = options.events ?? [{}]
  const timeoutMs = options.timeoutMs ?? RESTORE_TIMEOUT_MS
  const functionTimeout = String(options.functionTimeoutMs ?? DEFAULT_FUNCTION_TIMEOUT_MS)
  const env = { ...built.env, ...(options.env ?? {}) }
  const signal = options.signal
  if (signal?.aborted === true) throw new SnapshotAbortedError('restore', signal.reason)

  const eventsFile = writeEvents(built.outDir, events)
  const coldFile = writeEvents(built.outDir, events.slice(0, 1))
  try {
    const runs = await Promise.all(
      Array.from({ length: count }, (_, index) =>
        runProcess(
          built.execPath,
          [
            ...built.execArgv,
            '--snapshot-blob',
            built.blob,
            eventsFile,
            String(CHANNEL_FD),
            functionTimeout,
          ],
          {
            cwd: dirname(built.handler),
            env: snapshotEnvironment(built.handler, built.export, true, env),
            timeoutMs,
            onLog: options.onLog && ((line, stream) => options.onLog?.(line, stream, index)),
            signal,
          },
        ),
      ),
    )
    if (runs.some((run) => run.aborted)) throw abortedError(signal, runs)
    const environments = runs.map((run, index) => environment(index, run, events.length))

    let coldStart: ColdStart | undefined
    if (options.coldStart !== false) {
      const run = await runProcess(
        built.execPath,
        [...built.execArgv, built.bundle, coldFile, String(CHANNEL_FD), functionTimeout],
        {
          cwd: dirname(built.handler),
          env: snapshotEnvironment(built.handler, built.export, false, env),
          timeoutMs,
          onLog: options.onLog && ((line, stream) => options.onLog?.(line, stream, 'cold')),
          signal,
        },
      )
      if (run.aborted) throw abortedError(signal, [run])
      coldStart = cold(run, Math.min(1, events.length))
    }

    return {
      environments,
      coldStart,
      sizeBytes: built.sizeBytes,
      buildMs: built.buildMs,
      failed: environments.filter((item) => item.failure !== undefined).length,
    }
  } finally {
    rmSync(eventsFile, { force: true })
    rmSync(coldFile, { force: true })
  }
}

function abortedError(signal: AbortSignal | undefined, runs: ProcessRun[]): SnapshotAbortedError {
  const output = runs.map((run) => run.output).filter((text) => text !== '')
  return new SnapshotAbortedError('restore', signal?.reason, output.join('\n'))
}

function environment(index: number, run: ProcessRun, expected: number): RestoredEnvironment {
  const phase = find(run, 'phase')
  const responses = invocations(run)
  const result: RestoredEnvironment = {
    index,
    pid: run.pid,
    restoreMs: phase?.message.report.status === 'ok' ? phase.atMs : undefined,
    firstInvocationMs: firstResponseAt(run),
    afterRestore: phase?.message.report,
    responses,
    output: run.output,
  }
  const failure = failureOf(run, responses.length, expected)
  if (failure !== undefined) result.failure = failure
  return result
}

function cold(run: ProcessRun, expected: number): ColdStart {
  const init = find(run, 'init')
  const responses = invocations(run)
  const result: ColdStart = {
    pid: run.pid,
    initMs: init?.atMs,
    firstInvocationMs: firstResponseAt(run),
    response: responses[0],
    output: run.output,
  }
  const failure = failureOf(run, responses.length, expected)
  if (failure !== undefined) result.failure = failure
  return result
}

function invocations(run: ProcessRun): SnapshotInvocation[] {
  const list: SnapshotInvocation[] = []
  for (const { message } of run.messages) {
    if (message.type !== 'response') continue
    const item: SnapshotInvocation = {
      index: message.index,
      status: message.status,
      durationMs: message.durationMs,
    }
    if (message.status === 'ok') item.response = message.response
    if (message.error !== undefined) item.error = message.error
    list.push(item)
  }
  return list
}

function firstResponseAt(run: ProcessRun): number | undefined {
  return run.messages.find((received) => received.message.type === 'response')?.atMs
}

function failureOf(
  run: ProcessRun,
  handled: number,
  expected: number,
): SnapshotProcessFailure | undefined {
  const done = find(run, 'done') !== undefined
  if (done && handled === expected && run.exitCode === 0) return undefined
  const base = { exitCode: run.exitCode, signal: run.signal }
  if (run.timedOut) {
    return { kind: 'timeout', message: `killed after ${Math.round(run.durationMs)} ms`, ...base }
  }
  const fault = find(run, 'fault')?.message
  if (fault !== undefined) {
    const kind = fault.kind === 'afterRestore' || fault.kind === 'events' ? fault.kind : 'init'
    return { kind, message: `${fault.error.name}: ${fault.error.message}`, ...base }
  }
  const line = run.output.split('\n').find((text) => text.trim() !== '') ?? 'no output'
  return {
    kind: 'crash',
    message:
      `exited (code ${run.exitCode}, signal ${run.signal}) after ${handled} of ` +
      `${expected} events: ${line}`,
    ...base,
  }
}

function writeEvents(dir: string, events: unknown[]): string {
  eventFiles += 1
  const file = join(dir, `${EVENTS_PREFIX}${process.pid}-${eventFiles}.json`)
  writeFileSync(file, JSON.stringify(events))
  return file
}

/**
 * Reads `snapshot.json` beside a blob, or inside a snapshot directory. It names the build's
 * variables without their values, so `env` must give each of them again.
 */
function readSnapshot(path: string, env: Record<string, string> = {}): BuiltSnapshot {
  const dir = existsSync(path) && statSync(path).isDirectory() ? path : dirname(path)
  const meta = join(dir, SNAPSHOT_META)
  if (!existsSync(meta)) {
    throw new SnapshotError(
      `${meta} is missing: restore a snapshot made by buildSnapshot, from its blob or directory.`,
    )
  }
  const { envNames = [], ...described } = JSON.parse(readFileSync(meta, 'utf8')) as SnapshotMeta
  const missing = envNames.filter((name) => !Object.hasOwn(env, name))
  if (missing.length > 0) {
    throw new TypeError(
      `restoreSnapshot: "env" must give ${missing.join(', ')} again: the snapshot was built ` +
        `with ${missing.length === 1 ? 'this variable' : 'these variables'}, and ` +
        `${SNAPSHOT_META} keeps only their names, never their values`,
    )
  }
  return { ...described, env: {} }
}

function validate(options: RestoreSnapshotOptions): void {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError('restoreSnapshot expects an options object such as { environments: 2 }')
  }
  for (const key of Object.keys(options)) {
    if (!OPTIONS.has(key)) throw new TypeError(`restoreSnapshot: unknown option "${key}"`)
  }
  const count = options.environments
  if (
    count !== undefined &&
    !(Number.isInteger(count) && count >= 1 && count <= MAX_ENVIRONMENTS)
  ) {
    throw new TypeError(
      `restoreSnapshot: "environments" must be a whole number from 1 to ${MAX_ENVIRONMENTS}`,
    )
  }
  if (options.events !== undefined && !Array.isArray(options.events)) {
    throw new TypeError('restoreSnapshot: "events" must be an array of events')
  }
  if (options.timeoutMs !== undefined) {
    checkMilliseconds(options.timeoutMs, 'restoreSnapshot', 'timeoutMs')
  }
  if (options.functionTimeoutMs !== undefined) {
    checkMilliseconds(options.functionTimeoutMs, 'restoreSnapshot', 'functionTimeoutMs')
  }
  if (options.env !== undefined) checkEnvironment(options.env, 'restoreSnapshot')
  if (options.coldStart !== undefined && typeof options.coldStart !== 'boolean') {
    throw new TypeError('restoreSnapshot: "coldStart" must be a boolean')
  }
  if (options.onLog !== undefined && typeof options.onLog !== 'function') {
    throw new TypeError('restoreSnapshot: "onLog" must be a function')
  }
  if (options.signal !== undefined && !(options.signal instanceof AbortSignal)) {
    throw new TypeError('restoreSnapshot: "signal" must be an AbortSignal')
  }
}
