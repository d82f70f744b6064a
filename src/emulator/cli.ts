#!/usr/bin/env node
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, realpathSync, rmSync } from 'node:fs'
import type { Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { buildSnapshot, restoreSnapshot, SnapshotInitError } from '../snapshot/index.js'
import type {
  BuildSnapshotOptions,
  BuiltSnapshot,
  RestoreSnapshotOptions,
  SnapshotInvocation,
  SnapshotProcessFailure,
} from '../snapshot/types.js'
import type { PhaseReport } from '../types.js'
import { VERSION } from '../version.js'
import {
  type ArgsIo,
  nodeIo,
  parseCommand,
  type RunOptions,
  type SnapshotRunOptions,
  USAGE,
  UsageError,
} from './args.js'
import { type Emulator, startEmulator } from './emulator.js'
import { EmulatorError } from './errors.js'
import {
  renderSnapshotTimeline,
  renderTimeline,
  type SnapshotEnvironmentReport,
  type SnapshotTimeline,
} from './timeline.js'
import type { EmulatorFailure, EmulatorOptions, InvocationResult, TimelineStep } from './types.js'

/** The part of a running emulator the CLI uses. */
export type EmulatorHandle = Pick<
  Emulator,
  'beforeSnapshot' | 'afterRestore' | 'timeline' | 'pid' | 'restore' | 'invoke' | 'close'
>

/** Starts an emulator; resolves once the runtime is frozen at the snapshot point. */
export type StartEmulator = (options: EmulatorOptions) => Promise<EmulatorHandle>

/** Where the CLI writes and what it starts; replaced in tests. */
export interface CliDeps {
  startEmulator: StartEmulator
  stdout: { write(text: string): unknown }
  stderr: { write(text: string): unknown; isTTY?: boolean }
  env: NodeJS.ProcessEnv
  io: ArgsIo
  /** What `--snapshot v8` calls; default `buildSnapshot` and `restoreSnapshot`. */
  snapshot?: SnapshotApi
  /**
   * Aborted when the run must stop (the bin aborts it on SIGINT and SIGTERM): it is passed
   * to `startEmulator`, ends the frozen pause and stops the `--while-frozen` command; with
   * `--snapshot v8` it is passed to `buildSnapshot` and `restoreSnapshot`.
   */
  signal?: AbortSignal
}

/** The snapshot functions the CLI calls; replaced in tests. */
export interface SnapshotApi {
  buildSnapshot: typeof buildSnapshot
  restoreSnapshot: typeof restoreSnapshot
}

/**
 * The JSON document `--json` prints for `--snapshot v8`: the build, each restored
 * environment (numbered from 1) and the cold start, as the timeline shows them.
 */
export interface SnapshotRunDocument extends SnapshotTimeline {
  handler: string
  mode: 'snapshot-v8'
  events: unknown[]
  environments: SnapshotEnvironmentReport[]
  outcome: RunDocument['outcome']
}

/** The JSON document `--json` prints. */
export interface RunDocument {
  handler: string
  mode: 'snap-start' | 'on-demand'
  events: unknown[]
  responses: InvocationResult[]
  reports: { beforeSnapshot?: PhaseReport; afterRestore?: PhaseReport }
  timeline: TimelineStep[]
  whileFrozen?: CommandResult
  outcome: { status: 'ok' } | ({ status: 'failed' } & EmulatorFailure)
}

/** How the `--while-frozen` command ended. */
export interface CommandResult {
  command: string
  exitCode: number | null
  signal: string | null
  durationMs: number
}

/** What an interrupted CLI must stop: the emulator and a running `--while-frozen` command. */
const cleanups = new Set<() => unknown>()

/** Exit status for a run in which a phase or an invocation failed. */
export const EXIT_FAILED = 1
/** Exit status for a command line that cannot run. */
export const EXIT_USAGE = 2

/**
 * Runs the `snapstart` command line `argv` (the arguments after the program name) and
 * resolves to the exit status: 0 when every phase and invocation succeeded, 1 when one
 * failed, 2 for a command line that cannot run.
 */
export async function main(argv: readonly string[], deps: CliDeps = nodeDeps()): Promise<number> {
  let command: ReturnType<typeof parseCommand>
  try {
    command = parseCommand(argv, deps.io)
  } catch (error) {
    if (!(error instanceof UsageError)) throw error
    deps.stderr.write(`snapstart: ${error.message}\n`)
    return EXIT_USAGE
  }
  if (command.command === 'help') {
    deps.stdout.write(`${USAGE}\n`)
    return 0
  }
  if (command.command === 'version') {
    deps.stdout.write(`${VERSION}\n`)
    return 0
  }
  const options = command.options
  const { snapshot } = options
  const finished =
    snapshot !== undefined
      ? runSnapshot(options, snapshot, deps).then((document) => {
          reportSnapshot(document, options, deps)
          return document.outcome.status === 'ok' ? 0 : EXIT_FAILED
        })
      : runLifecycle(options, deps).then((document) => {
          report(document, options, deps)
          return document.outcome.status === 'ok' ? 0 : EXIT_FAILED
        })
  // An interrupted CLI waits for the run to wind down: the runtime or the snapshot
  // processes killed, the server closed, the snapshot's files removed.
  const waitForRun = () => finished
  cleanups.add(waitForRun)
  try {
    return await finished
  } finally {
    cleanups.delete(waitForRun)
  }
}

/** Everything one run collects while it goes. */
interface Run {
  document: RunDocument
  emulator?: EmulatorHandle
  frozen?: TimelineStep
  /** How many steps the emulator had when the pause began: where the pause goes. */
  frozenAt?: number
  /** Steps carried by a failure of `startEmulator`, when there is no emulator to ask. */
  failedSteps?: readonly TimelineStep[]
  /** The emulator's `close`, as registered with the cleanups. */
  close?: () => Promise<void>
}

async function runLifecycle(options: RunOptions, deps: CliDeps): Promise<RunDocument> {
  const run: Run = {
    document: {
      handler: options.handler,
      mode: options.onDemand ? 'on-demand' : 'snap-start',
      events: options.events,
      responses: [],
      reports: {},
      timeline: [],
      outcome: { status: 'ok' },
    },
  }
  try {
    await drive(run, options, deps)
  } catch (error) {
    fail(run, error)
  } finally {
    await closeQuietly(run.emulator)
    if (run.close !== undefined) cleanups.delete(run.close)
  }
  run.document.timeline = timelineOf(run)
  return run.document
}

async function drive(run: Run, options: RunOptions, deps: CliDeps): Promise<void> {
  throwIfAborted(deps.signal)
  const emulator = await deps.startEmulator(emulatorOptions(options, deps))
  run.emulator = emulator
  run.close = emulator.close.bind(emulator)
  cleanups.add(run.close)
  if (emulator.beforeSnapshot) run.document.reports.beforeSnapshot = emulator.beforeSnapshot

  if (!options.onDemand) {
    const pause = await holdFrozen(run, options, deps)
    throwIfAborted(deps.signal)
    if (pause !== undefined) {
      run.document.outcome = pause
      return
    }
    const restored = await emulator.restore()
    const afterRestore = emulator.afterRestore ?? restored.report
    if (afterRestore) run.document.reports.afterRestore = afterRestore
  }

  for (const [index, event] of options.events.entries()) {
    throwIfAborted(deps.signal)
    let result: InvocationResult
    try {
      result = await emulator.invoke(event)
    } catch (error) {
      if (!isRejectedEvent(error)) throw error
      // Lambda refuses such an event before it reaches the function: report it, go on.
      result = {
        requestId: '',
        status: 'error',
        error: { errorType: error.errorType, errorMessage: error.errorMessage },
        durationMs: 0,
      }
    }
    run.document.responses.push(result)
    if (!options.json) deps.stdout.write(`${JSON.stringify(responseLine(result))}\n`)
    if (result.status === 'error' && run.document.outcome.status === 'ok') {
      run.document.outcome = {
        status: 'failed',
        errorType: result.error?.errorType ?? 'Runtime.Unknown',
        errorMessage:
          `invocation ${index + 1} of ${options.events.length} failed: ` +
          (result.error?.errorMessage ?? 'no message'),
      }
    }
  }
}

/** An `invoke()` rejection for the event itself: the emulator is still usable. */
function isRejectedEvent(error: unknown): error is EmulatorError {
  return error instanceof EmulatorError && error.errorType === 'RequestEntityTooLargeException'
}

/** Throws `Emulator.Aborted` once `signal` is aborted. */
function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted !== true) return
  const reason = signal.reason instanceof Error ? ` (${signal.reason.message})` : ''
  throw new EmulatorError({
    errorType: 'Emulator.Aborted',
    errorMessage: `The run was aborted${reason}; the runtime process was stopped`,
  })
}

/**
 * Holds the snapshot point for at least `--frozen`, and until the `--while-frozen` command
 * exits (not until processes it left in the background end). An aborted `signal` ends
 * the pause at once. Resolves to a failure when the command failed, so the run stops
 * before the restore.
 */
async function holdFrozen(run: Run, options: RunOptions, deps: CliDeps) {
  const start = performance.now()
  const [, command] = await Promise.all([
    waitAtLeast(options.frozenMs, start, deps.signal),
    options.whileFrozen === undefined
      ? undefined
      : runCommand(options.whileFrozen, run.emulator?.pid, deps),
  ])
  const ok = command === undefined || command.exitCode === 0
  const before = run.emulator?.timeline ?? []
  run.frozenAt = before.length
  run.frozen = {
    kind: 'frozen',
    name: 'frozen',
    startMs: Math.max(0, ...before.map((step) => step.startMs + step.durationMs)),
    durationMs: performance.now() - start,
    status: ok ? 'ok' : 'failed',
  }
  if (command !== undefined) run.document.whileFrozen = command
  if (ok) return undefined

  const how = command.signal === null ? `exit code ${command.exitCode}` : command.signal
  return {
    status: 'failed' as const,
    errorType: 'Emulator.WhileFrozenCommandFailed',
    errorMessage:
      `--while-frozen command ended with ${how}, so the run stopped before the restore: ` +
      command.command,
  }
}

/**
 * Resolves once `ms` milliseconds have passed since `start` on the monotonic clock, or as
 * soon as `signal` is aborted.
 */
async function waitAtLeast(ms: number, start: number, signal?: AbortSignal): Promise<void> {
  // Timers round to whole milliseconds and may fire a fraction early: check, then top up.
  for (let left = ms; left > 0 && signal?.aborted !== true; ) {
    await sleep(Math.ceil(left), undefined, { signal }).catch(() => undefined)
    left = start + ms - performance.now()
  }
}

/**
 * Runs `command` through the shell in its own process group, so that stopping it reaches
 * whatever the shell started. Its output goes to stderr, never to the responses. Resolves
 * when the shell exits: a process it left running in the background may keep writing to
 * stderr, but neither holds the pause nor keeps the CLI from exiting.
 */
function runCommand(
  command: string,
  pid: number | undefined,
  deps: CliDeps,
): Promise<CommandResult> {
  const start = performance.now()
  const env = { ...deps.env }
  if (typeof pid === 'number') env.SNAPSTART_RUNTIME_PID = String(pid)
  return new Promise((resolve) => {
    const child: ChildProcess = spawn(command, {
      shell: true,
      cwd: deps.io.cwd,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    })
    child.stdout?.on('data', (chunk: Buffer) => deps.stderr.write(chunk.toString()))
    child.stderr?.on('data', (chunk: Buffer) => deps.stderr.write(chunk.toString()))
    const done = (exitCode: number | null, signal: string | null) =>
      resolve({ command, exitCode, signal, durationMs: performance.now() - start })
    const exited = new Promise((resolve) => child.once('exit', resolve))
    const kill = () => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGTERM')
      } catch {
        // The whole group has already exited.
      }
      return exited
    }
    cleanups.add(kill)
    deps.signal?.addEventListener('abort', kill, { once: true })
    child.once('error', () => done(127, null))
    child.once('exit', (code, signal) => {
      cleanups.delete(kill)
      deps.signal?.removeEventListener('abort', kill)
      // The pipes may be held open by background processes: they must not keep the CLI
      // alive. What the shell wrote before exiting is read in this turn of the event loop.
      for (const pipe of [child.stdout, child.stderr]) (pipe as Socket | null)?.unref()
      setImmediate(() => done(code, signal))
    })
  })
}

function emulatorOptions(options: RunOptions, deps: CliDeps): EmulatorOptions {
  const result: EmulatorOptions = {
    handler: options.handler,
    cwd: deps.io.cwd,
    env: options.env,
    onDemand: options.onDemand,
  }
  if (deps.signal !== undefined) result.signal = deps.signal
  if (options.export !== undefined) result.export = options.export
  if (options.timeoutSeconds !== undefined) result.timeoutSeconds = options.timeoutSeconds
  if (options.memoryMb !== undefined) result.memoryMb = options.memoryMb
  return result
}

/** What stdout shows for one invocation: the response, or Lambda's error payload. */
function responseLine(result: InvocationResult): unknown {
  return result.status === 'ok' ? (result.response ?? null) : result.error
}

function fail(run: Run, error: unknown): void {
  const failure = toFailure(error)
  run.document.outcome = { status: 'failed', ...failure }
  const { report, timeline } = error as { report?: unknown; timeline?: unknown }
  if (isPhaseReport(report)) run.document.reports[report.phase] = report
  if (run.emulator === undefined && Array.isArray(timeline)) run.failedSteps = timeline
}

function toFailure(error: unknown): EmulatorFailure {
  const value = (typeof error === 'object' && error !== null ? error : {}) as Partial<
    EmulatorFailure & Error
  >
  const failure: EmulatorFailure = {
    errorType: value.errorType ?? value.name ?? 'Error',
    errorMessage: value.errorMessage ?? value.message ?? String(error),
  }
  if (value.exitCode !== undefined) failure.exitCode = value.exitCode
  return failure
}

/** The emulator's steps, with the CLI's frozen pause put in when the emulator has none. */
function timelineOf(run: Run): TimelineStep[] {
  const steps = [...(run.emulator?.timeline ?? run.failedSteps ?? [])]
  const frozen = run.frozen
  if (frozen === undefined) return steps
  const own = steps.findIndex((step) => step.kind === 'frozen')
  if (own !== -1) {
    if (frozen.status !== 'ok') steps[own] = { ...steps[own]!, status: frozen.status }
    return steps
  }
  steps.splice(run.frozenAt ?? steps.length, 0, frozen)
  return steps
}

function report(document: RunDocument, options: RunOptions, deps: CliDeps): void {
  if (options.json) {
    deps.stdout.write(`${JSON.stringify(document, null, 2)}\n`)
  } else {
    const color = deps.stderr.isTTY === true && !deps.env.NO_COLOR
    deps.stderr.write(renderTimeline(document.timeline, { color }))
  }
  const outcome = document.outcome
  if (outcome.status === 'ok') return
  const exit =
    outcome.exitCode === undefined || outcome.exitCode === null
      ? ''
      : ` (runtime exited with code ${outcome.exitCode})`
  deps.stderr.write(`snapstart: ${outcome.errorType}: ${outcome.errorMessage}${exit}\n`)
}

/** Lambda's limit for the restore and the after-restore hooks, in milliseconds. */
const RESTORE_LIMIT_MS = 10_000

/** The error type a restored (or cold-started) process's failure is reported with. */
const FAILURE_TYPES: Record<SnapshotProcessFailure['kind'], string> = {
  afterRestore: 'Runtime.AfterRestoreError',
  timeout: 'Sandbox.Timedout',
  init: 'Runtime.ExitError',
  events: 'Runtime.ExitError',
  crash: 'Runtime.ExitError',
}

/**
 * Builds a startup snapshot of the handler, restores it into the environments, and removes
 * the snapshot's directory whatever happened. Never rejects: a failure is the outcome.
 */
async function runSnapshot(
  options: RunOptions,
  snapshot: SnapshotRunOptions,
  deps: CliDeps,
): Promise<SnapshotRunDocument> {
  const api = deps.snapshot ?? { buildSnapshot, restoreSnapshot }
  const document: SnapshotRunDocument = {
    handler: options.handler,
    mode: 'snapshot-v8',
    events: options.events,
    build: { status: 'failed', durationMs: 0 },
    environments: [],
    coldStart: undefined,
    outcome: { status: 'ok' },
  }
  const outDir = mkdtempSync(join(tmpdir(), 'middy-snapstart-snapshot-'))
  const dirs = new Set([outDir])
  const removeDirs = () => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
  }
  cleanups.add(removeDirs)
  try {
    const built = await buildStep(document, options, outDir, api, deps)
    if (built === undefined) return document
    dirs.add(built.outDir)

    const result = await api.restoreSnapshot(built, restoreOptions(options, snapshot, deps))
    const coldMs = result.coldStart?.firstInvocationMs
    document.environments = result.environments.map(({ index, output, ...environment }) => {
      const report: SnapshotEnvironmentReport = { environment: index + 1, ...environment }
      const ms = environment.firstInvocationMs
      if (ms !== undefined && coldMs !== undefined && coldMs > 0) report.coldRatio = ms / coldMs
      return report
    })
    if (result.coldStart !== undefined) {
      const { output, ...coldStart } = result.coldStart
      document.coldStart = coldStart
    }
    document.outcome = snapshotOutcome(document)
  } catch (error) {
    document.outcome = { status: 'failed', ...snapshotFailure(error) }
  } finally {
    removeDirs()
    cleanups.delete(removeDirs)
  }
  return document
}

/** Bundles and builds the snapshot; on failure, records it and resolves to `undefined`. */
async function buildStep(
  document: SnapshotRunDocument,
  options: RunOptions,
  outDir: string,
  api: SnapshotApi,
  deps: CliDeps,
): Promise<BuiltSnapshot | undefined> {
  const build: BuildSnapshotOptions = {
    handler: options.handler,
    cwd: deps.io.cwd,
    env: { AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(options.memoryMb ?? 128), ...options.env },
    outDir,
    onLog: (line) => deps.stderr.write(`[build] ${line}\n`),
  }
  if (deps.signal !== undefined) build.signal = deps.signal
  if (options.export !== undefined) build.export = options.export
  const start = performance.now()
  try {
    const built = await api.buildSnapshot(build)
    document.build = {
      status: 'ok',
      export: built.export,
      sizeBytes: built.sizeBytes,
      bundleMs: built.bundleMs,
      buildMs: built.buildMs,
      initMs: built.initMs,
      beforeSnapshot: built.beforeSnapshot,
      nodeVersion: built.nodeVersion,
    }
    return built
  } catch (error) {
    document.build = { status: 'failed', durationMs: performance.now() - start }
    if (error instanceof SnapshotInitError && error.report !== undefined) {
      document.build.beforeSnapshot = error.report
    }
    document.outcome = { status: 'failed', ...snapshotFailure(error) }
    return undefined
  }
}

/**
 * Limitation: the snapshot processes do not time out one invocation at a time, so
 * `--timeout` limits each restored process as a whole (`RESTORE_LIMIT_MS` plus the timeout
 * for each event); the handler's `context.getRemainingTimeInMillis()` does follow it.
 */
function restoreOptions(
  options: RunOptions,
  snapshot: SnapshotRunOptions,
  deps: CliDeps,
): RestoreSnapshotOptions {
  const restore: RestoreSnapshotOptions = {
    environments: snapshot.environments,
    events: options.events,
    onLog: (line, _stream, environment) => {
      const source = environment === 'cold' ? 'cold start' : `environment ${environment + 1}`
      deps.stderr.write(`[${source}] ${line}\n`)
    },
  }
  if (deps.signal !== undefined) restore.signal = deps.signal
  if (options.timeoutSeconds !== undefined) {
    restore.timeoutMs = RESTORE_LIMIT_MS + options.timeoutSeconds * 1000 * options.events.length
    restore.functionTimeoutMs = options.timeoutSeconds * 1000
  }
  return restore
}

/**
 * The run's outcome: the first environment that stopped, else the first invocation that
 * failed, else a failure of the cold start.
 */
function snapshotOutcome(document: SnapshotRunDocument): RunDocument['outcome'] {
  const count = document.environments.length
  const stopped = document.environments.filter((environment) => environment.failure)
  const first = stopped[0]
  if (first?.failure !== undefined) {
    const more = stopped.length > 1 ? ` (and ${stopped.length - 1} more)` : ''
    return processFailure(first.failure, `environment ${first.environment} of ${count}`, more)
  }
  for (const environment of document.environments) {
    const failed = environment.responses.find((response) => response.status === 'error')
    if (failed !== undefined) {
      return invocationFailure(failed, document, `in environment ${environment.environment}`)
    }
  }
  const cold = document.coldStart
  if (cold?.failure !== undefined) return processFailure(cold.failure, 'the cold start', '')
  if (cold?.response?.status === 'error') {
    return invocationFailure(cold.response, document, 'in the cold start')
  }
  return { status: 'ok' }
}

function processFailure(
  failure: SnapshotProcessFailure,
  where: string,
  more: string,
): RunDocument['outcome'] {
  return {
    status: 'failed',
    errorType: FAILURE_TYPES[failure.kind],
    errorMessage: `${where} stopped${more}: ${failure.message}`,
    exitCode: failure.exitCode,
  }
}

function invocationFailure(
  invocation: SnapshotInvocation,
  document: SnapshotRunDocument,
  where: string,
): RunDocument['outcome'] {
  return {
    status: 'failed',
    errorType: invocation.error?.errorType ?? 'Runtime.Unknown',
    errorMessage:
      `invocation ${invocation.index + 1} of ${document.events.length} failed ${where}: ` +
      (invocation.error?.errorMessage ?? 'no message'),
  }
}

/** A thrown error as it is: its class name and message (snapshot errors say the fix). */
function snapshotFailure(error: unknown): EmulatorFailure {
  const { errorType, errorMessage } = toFailure(error)
  return { errorType, errorMessage }
}

/**
 * Writes the responses to stdout (one line each, tagged with the environment when there
 * are several) and the timeline to stderr, or the whole document with `--json`, then the
 * failure, if any.
 */
function reportSnapshot(document: SnapshotRunDocument, options: RunOptions, deps: CliDeps) {
  if (options.json) {
    deps.stdout.write(`${JSON.stringify(document, null, 2)}\n`)
  } else {
    const tagged = (options.snapshot?.environments ?? 1) > 1
    for (const environment of document.environments) {
      for (const invocation of environment.responses) {
        const line = snapshotResponseLine(invocation, tagged ? environment.environment : undefined)
        deps.stdout.write(`${JSON.stringify(line)}\n`)
      }
    }
    const color = deps.stderr.isTTY === true && !deps.env.NO_COLOR
    deps.stderr.write(renderSnapshotTimeline(document, { color }))
  }
  const outcome = document.outcome
  if (outcome.status === 'ok') return
  const exit =
    outcome.exitCode === undefined || outcome.exitCode === null
      ? ''
      : ` (exited with code ${outcome.exitCode})`
  deps.stderr.write(`snapstart: ${outcome.errorType}: ${outcome.errorMessage}${exit}\n`)
}

/**
 * One stdout line: the response (or Lambda's error payload) as it is, or, with several
 * environments, `{"environment":N,"response":...}` or `{"environment":N,"error":{...}}`.
 */
function snapshotResponseLine(
  invocation: SnapshotInvocation,
  environment: number | undefined,
): unknown {
  const ok = invocation.status === 'ok'
  if (environment === undefined) return ok ? (invocation.response ?? null) : invocation.error
  return ok
    ? { environment, response: invocation.response ?? null }
    : { environment, error: invocation.error }
}

function isPhaseReport(value: unknown): value is PhaseReport {
  const phase = (value as { phase?: unknown } | null)?.phase
  return (
    typeof value === 'object' &&
    value !== null &&
    (phase === 'beforeSnapshot' || phase === 'afterRestore') &&
    Array.isArray((value as { hooks?: unknown }).hooks)
  )
}

async function closeQuietly(emulator: EmulatorHandle | undefined): Promise<void> {
  try {
    await emulator?.close()
  } catch {
    // The run's outcome is already decided; a failing close must not hide it.
  }
}

/** Aborted by the bin on SIGINT or SIGTERM; the signal of `nodeDeps()`. */
const interruption = new AbortController()

function nodeDeps(): CliDeps {
  return {
    startEmulator,
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    io: nodeIo(),
    signal: interruption.signal,
  }
}

function isMainModule(): boolean {
  const entry = process.argv[1]
  if (entry === undefined) return false
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url))
  } catch {
    return false
  }
}

/**
 * On Ctrl-C or SIGTERM: abort the run (the runtime is killed and the server closed, the
 * command stopped; with `--snapshot v8`, the build or restored processes are killed), wait
 * for it to wind down, then exit 130 or 143. A second signal exits at once; the exit
 * listener still kills the runtime or the snapshot processes.
 */
function stopOnSignals(): void {
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    process.on(signal, () => {
      if (interruption.signal.aborted) process.exit(code)
      interruption.abort(new Error(`interrupted by ${signal}`))
      const pending = [...cleanups].map((cleanup) => Promise.resolve().then(cleanup))
      Promise.allSettled(pending).then(() => process.exit(code))
    })
  }
}

if (isMainModule()) {
  stopOnSignals()
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code
    },
    (error: unknown) => {
      process.stderr.write(`snapstart: unexpected failure: ${String(error)}\n`)
      process.exitCode = EXIT_FAILED
    },
  )
}
