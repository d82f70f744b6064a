#!/usr/bin/env node
import { realpathSync } from 'node:fs'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import type { PhaseReport } from '../types.js'
import { VERSION } from '../version.js'
import { nodeIo, parseCommand, type RunOptions, USAGE, UsageError } from './args.js'
import { cleanups } from './cleanups.js'
import {
  responseLine,
  toFailure,
  useColor,
  writeDocument,
  writeFailure,
  writeLine,
} from './cli-output.js'
import type { CliDeps, EmulatorHandle, RunDocument } from './cli-types.js'
import { startEmulator } from './emulator.js'
import { EmulatorError } from './errors.js'
import { runCommand, waitAtLeast } from './frozen-pause.js'
import { reportSnapshot, runSnapshot } from './snapshot-run.js'
import { renderTimeline } from './timeline.js'
import type { EmulatorOptions, InvocationResult, TimelineStep } from './types.js'

export type {
  CliDeps,
  CommandResult,
  EmulatorHandle,
  RunDocument,
  SnapshotApi,
  SnapshotRunDocument,
  StartEmulator,
} from './cli-types.js'

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
    if (!options.json) writeLine(responseLine(result), deps)
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

function fail(run: Run, error: unknown): void {
  const failure = toFailure(error)
  run.document.outcome = { status: 'failed', ...failure }
  const { report, timeline } = error as { report?: unknown; timeline?: unknown }
  if (isPhaseReport(report)) run.document.reports[report.phase] = report
  if (run.emulator === undefined && Array.isArray(timeline)) run.failedSteps = timeline
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
    writeDocument(document, deps)
  } else {
    deps.stderr.write(renderTimeline(document.timeline, { color: useColor(deps) }))
  }
  writeFailure(document.outcome, 'runtime exited', deps)
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
 * On Ctrl-C, SIGTERM or SIGHUP (the terminal closed): abort the run (the runtime is killed
 * and the server closed, the command stopped; with `--snapshot v8`, the build or restored
 * processes are killed), wait for it to wind down, then exit 130, 143 or 129. A second
 * signal exits at once; the exit listener still kills the runtime or the snapshot processes.
 */
function stopOnSignals(): void {
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
    ['SIGHUP', 129],
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
