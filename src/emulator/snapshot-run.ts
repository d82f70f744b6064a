// The `snapstart run --snapshot v8` run: builds a Node startup snapshot of the handler,
// restores it into the environments and reports what each one answered and measured.

import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { buildSnapshot, restoreSnapshot, SnapshotInitError } from '../snapshot/index.js'
import type {
  BuildSnapshotOptions,
  BuiltSnapshot,
  RestoreSnapshotOptions,
  SnapshotInvocation,
  SnapshotProcessFailure,
} from '../snapshot/types.js'
import type { RunOptions, SnapshotRunOptions } from './args.js'
import { cleanups } from './cleanups.js'
import {
  responseLine,
  toFailure,
  useColor,
  writeDocument,
  writeFailure,
  writeLine,
} from './cli-output.js'
import type { CliDeps, RunDocument, SnapshotApi, SnapshotRunDocument } from './cli-types.js'
import { renderSnapshotTimeline, type SnapshotEnvironmentReport } from './timeline.js'
import type { EmulatorFailure } from './types.js'

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
export async function runSnapshot(
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
export function reportSnapshot(
  document: SnapshotRunDocument,
  options: RunOptions,
  deps: CliDeps,
): void {
  if (options.json) {
    writeDocument(document, deps)
  } else {
    const tagged = (options.snapshot?.environments ?? 1) > 1
    for (const environment of document.environments) {
      for (const invocation of environment.responses) {
        const line = snapshotResponseLine(invocation, tagged ? environment.environment : undefined)
        writeLine(line, deps)
      }
    }
    deps.stderr.write(renderSnapshotTimeline(document, { color: useColor(deps) }))
  }
  writeFailure(document.outcome, 'exited', deps)
}

/**
 * One stdout line: the response (or Lambda's error payload) as it is, or, with several
 * environments, `{"environment":N,"response":...}` or `{"environment":N,"error":{...}}`.
 */
function snapshotResponseLine(
  invocation: SnapshotInvocation,
  environment: number | undefined,
): unknown {
  if (environment === undefined) return responseLine(invocation)
  return invocation.status === 'ok'
    ? { environment, response: invocation.response ?? null }
    : { environment, error: invocation.error }
}
