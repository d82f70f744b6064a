// The CLI's types: what it depends on (replaced in tests) and the documents `--json` prints.

import type { buildSnapshot, restoreSnapshot } from '../snapshot/index.js'
import type { PhaseReport } from '../types.js'
import type { ArgsIo } from './args.js'
import type { Emulator } from './emulator.js'
import type { SnapshotEnvironmentReport, SnapshotTimeline } from './timeline.js'
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
