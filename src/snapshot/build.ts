import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, dirname, extname, join, resolve } from 'node:path'
import { checkEnvironment, lambdaEnvironment } from '../lambda-environment.js'
import { checkMilliseconds } from '../milliseconds.js'
import { EXPORT_PATH } from '../runtime/export-path.js'
import type { PhaseReport } from '../types.js'
import { bundleHandler, sourceOfStack } from './bundle.js'
import { forgetOnProcessExit, killOnProcessExit } from './child-processes.js'
import {
  SnapshotAbortedError,
  SnapshotBuildError,
  SnapshotBuildTimeoutError,
  SnapshotBundleError,
  type SnapshotError,
  SnapshotHttpError,
  SnapshotInitError,
  SnapshotLiveHandlesError,
} from './errors.js'
import { find, type ProcessRun, runProcess } from './process.js'
import { CHANNEL_FD, type ChannelMessage, NO_EVENTS } from './protocol.js'
import type { BuildSnapshotOptions, BuiltSnapshot } from './types.js'

/** Default time limit of a snapshot build, in milliseconds. */
export const BUILD_TIMEOUT_MS = 60_000

/**
 * Name of the file beside the blob that describes it: a `BuiltSnapshot` as JSON, with the
 * names of its `env` variables but not their values (`SnapshotMeta`).
 */
export const SNAPSHOT_META = 'snapshot.json'

/** Name of the bundled entry inside the output directory. */
export const BUNDLE_FILE = 'bundle.cjs'

/** Name of the snapshot blob inside the output directory. */
export const BLOB_FILE = 'snapshot.blob'

const OPTIONS = new Set([
  'handler',
  'export',
  'env',
  'timeoutMs',
  'outDir',
  'execArgv',
  'cwd',
  'onLog',
  'signal',
])
/** `AWS_LAMBDA_FUNCTION_NAME` of the snapshot processes. */
const FUNCTION_NAME = 'snapstart-function'
const OWN_FLAGS = /^--(snapshot-blob|build-snapshot|build-snapshot-config)(=|$)/

/**
 * Builds a Node startup snapshot of a handler. The handler is bundled with this package's
 * lifecycle into one CommonJS file; `node --snapshot-blob <blob> --build-snapshot` then runs
 * init and the before-snapshot hooks and writes the heap to the blob. Restore it with
 * `restoreSnapshot`.
 *
 * Rejects with a `SnapshotError` subclass naming the cause and the fix:
 * `SnapshotEsmOnlyError` (top-level await, `import.meta`), `SnapshotHttpError` (http, https,
 * http2, tls or fetch used during init), `SnapshotLiveHandlesError` (sockets, servers or
 * timers alive after the before-snapshot hooks), `SnapshotInitError` (init or a
 * before-snapshot hook threw), `SnapshotBuildTimeoutError` (over `timeoutMs`, default
 * 60 000 ms; the build is killed), `SnapshotAbortedError` (`signal` was aborted; the build
 * is killed), `SnapshotBundleError`, `SnapshotBuildError`. A build still running when this
 * process exits is killed too.
 *
 * The blob and bundle stay on disk (about 5 MB) until `removeSnapshot(built)` deletes them;
 * a failed build leaves nothing in a directory it created.
 */
export async function buildSnapshot(options: BuildSnapshotOptions): Promise<BuiltSnapshot> {
  validate(options)
  const cwd = resolve(options.cwd ?? process.cwd())
  const handler = resolve(cwd, options.handler)
  const exportPath = options.export ?? 'handler'
  const execArgv = [...(options.execArgv ?? [])]
  const env = { ...(options.env ?? {}) }
  const timeoutMs = options.timeoutMs ?? BUILD_TIMEOUT_MS
  if (!existsSync(handler) || !statSync(handler).isFile()) {
    throw new SnapshotBundleError(`Cannot find the handler file ${handler}`, [])
  }
  throwIfAborted(options.signal)

  const created = options.outDir === undefined
  const outDir = options.outDir ?? mkdtempSync(join(tmpdir(), 'middy-snapstart-snapshot-'))
  mkdirSync(outDir, { recursive: true })
  // A directory this call created holds nothing useful until the build is done: removed
  // after a failure, or when this process exits during the build.
  const remove = () => rmSync(outDir, { recursive: true, force: true })
  if (created) killOnProcessExit(remove)
  try {
    return await build({ handler, exportPath, execArgv, env, timeoutMs, outDir, cwd }, options)
  } catch (error) {
    if (created) remove()
    throw error
  } finally {
    forgetOnProcessExit(remove)
  }
}

interface Resolved {
  handler: string
  exportPath: string
  execArgv: string[]
  env: Record<string, string>
  timeoutMs: number
  outDir: string
  cwd: string
}

async function build(resolved: Resolved, options: BuildSnapshotOptions): Promise<BuiltSnapshot> {
  const { handler, exportPath, execArgv, env, timeoutMs, outDir, cwd } = resolved
  const bundle = join(outDir, BUNDLE_FILE)
  const blob = join(outDir, BLOB_FILE)

  const bundleMs = await bundleHandler(handler, exportPath, bundle)

  const run = await runProcess(
    process.execPath,
    [
      ...execArgv,
      '--snapshot-blob',
      blob,
      '--build-snapshot',
      bundle,
      NO_EVENTS,
      String(CHANNEL_FD),
    ],
    {
      cwd,
      env: snapshotEnvironment(handler, exportPath, true, env),
      timeoutMs,
      onLog: options.onLog,
      signal: options.signal,
    },
  )
  if (run.aborted) throw new SnapshotAbortedError('build', options.signal?.reason, run.output)
  const { initMs, beforeSnapshot } = outcome(run, timeoutMs, blob, bundle)

  const built: BuiltSnapshot = {
    blob,
    bundle,
    outDir,
    handler,
    export: exportPath,
    sizeBytes: statSync(blob).size,
    bundleMs,
    buildMs: run.durationMs,
    initMs,
    beforeSnapshot,
    execPath: process.execPath,
    nodeVersion: process.version,
    execArgv,
    env,
  }
  const { env: values, ...described } = built
  const meta: SnapshotMeta = { ...described, envNames: Object.keys(values) }
  writeFileSync(join(outDir, SNAPSHOT_META), `${JSON.stringify(meta, null, 2)}\n`)
  return built
}

/** Throws `SnapshotAbortedError` once `signal` is aborted, before anything is started. */
function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted === true) throw new SnapshotAbortedError('build', signal.reason)
}

/**
 * What `snapshot.json` holds: the `BuiltSnapshot` with the names of its `env` variables in
 * place of `env`. The values (API keys, tokens) are never written to disk; restoring from
 * the file takes them from `RestoreSnapshotOptions.env` again.
 */
export type SnapshotMeta = Omit<BuiltSnapshot, 'env'> & { envNames: string[] }

/**
 * The environment of a snapshot process: the one Lambda gives a function (the emulator's,
 * see `lambdaEnvironment`) for `handler` and `exportPath`, with `env` over it, and without
 * `NODE_OPTIONS`, whose loaders cannot run in a snapshot. Nothing of this process's own
 * environment but `PATH`, `NODE_PATH` and `TMPDIR` is passed on.
 */
export function snapshotEnvironment(
  handler: string,
  exportPath: string,
  snapStart: boolean,
  env: Record<string, string>,
): Record<string, string> {
  const result = lambdaEnvironment({
    handler: `${basename(handler, extname(handler))}.${exportPath}`,
    taskRoot: dirname(handler),
    snapStart,
    functionName: FUNCTION_NAME,
    functionVersion: snapStart ? '1' : '$LATEST',
    memoryMb: 128,
    region: 'us-east-1',
    userEnv: env,
  })
  delete result.NODE_OPTIONS
  return result
}

/** Turns the build process's end into the init figures, or throws the matching error. */
function outcome(
  run: ProcessRun,
  timeoutMs: number,
  blob: string,
  bundle: string,
): Pick<BuiltSnapshot, 'initMs' | 'beforeSnapshot'> {
  const init = find(run, 'init')?.message
  const phase = find(run, 'phase')?.message
  const fault = find(run, 'fault')?.message

  if (run.timedOut) {
    const stage = init === undefined ? 'init' : phase === undefined ? 'beforeSnapshot' : 'snapshot'
    throw new SnapshotBuildTimeoutError(timeoutMs, stage, run.output)
  }
  if (fault !== undefined) throw faultError(fault, phase?.report, bundle, run.output)

  const ready = find(run, 'ready') !== undefined
  if (run.exitCode === 0 && ready && existsSync(blob) && init && phase) {
    return { initMs: init.durationMs, beforeSnapshot: phase.report }
  }
  if (run.exitCode === 0 && !ready) {
    const stage = init === undefined ? 'init' : 'the before-snapshot hooks'
    throw new SnapshotBuildError(
      `The snapshot build ended before ${stage} finished: the event loop emptied while init ` +
        'awaited a promise that never settles. Make sure every promise awaited at init (or ' +
        'in a before-snapshot hook) settles.',
      { exitCode: run.exitCode, signal: run.signal, output: run.output },
    )
  }
  throw crashError(run)
}

function faultError(
  fault: Extract<ChannelMessage, { type: 'fault' }>,
  report: PhaseReport | undefined,
  bundle: string,
  output: string,
): SnapshotError {
  const reason = `${fault.error.name}: ${fault.error.message}`
  switch (fault.kind) {
    case 'http':
      return new SnapshotHttpError(
        fault.module ?? 'http',
        process.versions.node,
        loadedFrom(fault.error.stack, bundle),
        output,
      )
    case 'handles':
      return new SnapshotLiveHandlesError(fault.resources ?? [], output)
    case 'beforeSnapshot':
      return new SnapshotInitError(`${fault.error.message} (while building the snapshot)`, {
        phase: 'beforeSnapshot',
        report,
        output,
      })
    case 'export':
      return new SnapshotInitError(`${fault.error.message}; export the handler function.`, {
        phase: 'init',
        output,
      })
    default:
      if (fault.error.name === 'Runtime.InvalidConfiguration') {
        return new SnapshotInitError(
          `A SNAPSTART_* variable is malformed: ${fault.error.message}`,
          {
            phase: 'init',
            output,
          },
        )
      }
      return new SnapshotInitError(`The handler threw while loading (init): ${reason}`, {
        phase: 'init',
        output,
      })
  }
}

function crashError(run: ProcessRun): SnapshotError {
  const aborted =
    run.signal === 'SIGTRAP' ||
    run.signal === 'SIGABRT' ||
    run.exitCode === 133 ||
    run.exitCode === 134
  const lines = run.output.split('\n').map((line) => line.trim())
  if (aborted) {
    const check = lines.find((line) => line.includes('Check failed'))
    const reason = lines.some((line) => line.includes('global handle not serialized'))
      ? 'V8: global handle not serialized'
      : (check ?? `signal ${run.signal ?? run.exitCode}`)
    return new SnapshotBuildError(
      'V8 aborted while writing the snapshot: something created during init holds native ' +
        `state a startup snapshot cannot keep (${reason}). Typical causes: zlib streams, ` +
        'DNS resolvers, native addons, http internals. Create them after the restore ' +
        '(lazily, or in an after-restore hook) instead.',
      { exitCode: run.exitCode, signal: run.signal, output: run.output },
    )
  }
  const detail = lines.find((line) => /Error|Check failed/.test(line)) ?? 'see output'
  return new SnapshotBuildError(
    `The snapshot build failed (exit code ${run.exitCode}, signal ${run.signal}): ${detail}`,
    { exitCode: run.exitCode, signal: run.signal, output: run.output },
  )
}

/** ` (from file)`: the source file whose init loaded the module, when the stack tells. */
function loadedFrom(stack: string | undefined, bundle: string): string {
  const file = sourceOfStack(stack, bundle)
  return file === undefined ? '' : ` (from ${file})`
}

function validate(options: BuildSnapshotOptions): void {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError('buildSnapshot expects an options object such as { handler: "index.js" }')
  }
  for (const key of Object.keys(options)) {
    if (!OPTIONS.has(key)) {
      throw new TypeError(`buildSnapshot: unknown option "${key}"`)
    }
  }
  if (typeof options.handler !== 'string' || options.handler === '') {
    throw new TypeError('buildSnapshot: "handler" must be the path of the handler file')
  }
  if (options.export !== undefined && !EXPORT_PATH.test(options.export)) {
    throw new TypeError('buildSnapshot: "export" must be an export name such as "handler"')
  }
  if (options.timeoutMs !== undefined) {
    checkMilliseconds(options.timeoutMs, 'buildSnapshot', 'timeoutMs')
  }
  const flags = options.execArgv
  if (flags !== undefined && !(Array.isArray(flags) && flags.every((f) => typeof f === 'string'))) {
    throw new TypeError('buildSnapshot: "execArgv" must be an array of strings')
  }
  const own = flags?.find((flag) => OWN_FLAGS.test(flag))
  if (own !== undefined) {
    throw new TypeError(`buildSnapshot: "execArgv" must not contain ${own}; it is set for you`)
  }
  if (options.env !== undefined) checkEnvironment(options.env, 'buildSnapshot')
  if (options.onLog !== undefined && typeof options.onLog !== 'function') {
    throw new TypeError('buildSnapshot: "onLog" must be a function')
  }
  if (options.signal !== undefined && !(options.signal instanceof AbortSignal)) {
    throw new TypeError('buildSnapshot: "signal" must be an AbortSignal')
  }
}
