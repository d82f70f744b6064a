import type { PhaseReport } from '../types.js'

/**
 * The file descriptor on which a snapshot process (the build, a restored environment or the
 * cold-start comparison) writes its channel messages: one `ChannelMessage` as JSON per line.
 * stdout and stderr stay the function's own logs.
 */
export const CHANNEL_FD = 3

/**
 * Process arguments after the script (or after `--snapshot-blob <blob>` for a restore):
 * `<events> <channelFd> [<functionTimeoutMs>]`. `<events>` is a JSON file holding an array
 * of events, or `-` for none. Without `<channelFd>` the messages go to stdout. Without
 * `<functionTimeoutMs>` (or with anything but a whole number from 1) each invocation's
 * deadline is `DEFAULT_FUNCTION_TIMEOUT_MS` away.
 */
export const NO_EVENTS = '-'

/** The function timeout of a snapshot process's invocations, in milliseconds: Lambda's. */
export const DEFAULT_FUNCTION_TIMEOUT_MS = 3_000

/** Key on `globalThis` of the check the bundle's `require` calls while the snapshot builds. */
export const REQUIRE_GUARD_KEY = 'middy-snapstart.snapshot-require-guard'

/** Exit codes of a snapshot process that stops on purpose. */
export const EXIT = {
  /** The before-snapshot phase failed (as Lambda's runtimes do). */
  beforeSnapshot: 64,
  /** The after-restore phase failed (as Lambda's runtimes do). */
  afterRestore: 65,
  /** Something a startup snapshot cannot hold, or init failed. */
  fault: 70,
} as const

/** Why a snapshot process stopped. */
export type FaultKind =
  | 'init'
  | 'export'
  | 'http'
  | 'handles'
  | 'beforeSnapshot'
  | 'afterRestore'
  | 'events'

/** One line on the channel. `atMs` is the sender's `performance.now()` (ms since start). */
export type ChannelMessage =
  | { type: 'init'; durationMs: number; atMs: number }
  | { type: 'phase'; report: PhaseReport; atMs: number }
  | { type: 'ready'; atMs: number }
  | {
      type: 'fault'
      kind: FaultKind
      /** The error's class name and message, or a description of the fault. */
      error: { name: string; message: string; stack?: string }
      /** `http`: the module that was loaded. */
      module?: string
      /** `handles`: the kinds of resource still alive, one entry per resource. */
      resources?: string[]
      atMs: number
    }
  | {
      type: 'response'
      index: number
      status: 'ok' | 'error'
      response?: unknown
      error?: { errorType: string; errorMessage: string }
      durationMs: number
      atMs: number
    }
  | { type: 'done'; atMs: number }
