import type { PhaseReport } from '../types.js'
import type { EmulatorFailure, TimelineStep } from './types.js'

/**
 * The function's lifecycle failed in the emulator: init, the before-snapshot phase, the
 * restore, or the runtime process itself. `errorType` is the Lambda error type
 * (`Runtime.*` from the runtime's error-type header, or `Lambda.*` / `Sandbox.*` for limits
 * the emulator enforces), `exitCode` the runtime process's exit code once it has exited
 * (`null` when it was killed by a signal).
 */
export class EmulatorError extends Error implements EmulatorFailure {
  override name = 'EmulatorError'
  readonly errorType: string
  readonly errorMessage: string
  readonly exitCode: number | null | undefined
  /** The signal that ended the runtime process, when one did. */
  readonly signal: NodeJS.Signals | null | undefined
  /** The steps that ran before the failure, for a timeline of a failed run. */
  timeline: readonly TimelineStep[] = []
  /** The report of the phase that failed, when the runtime sent one. */
  report: PhaseReport | undefined

  constructor(failure: EmulatorFailure & { signal?: NodeJS.Signals | null }) {
    super(`${failure.errorType}: ${failure.errorMessage}`)
    this.errorType = failure.errorType
    this.errorMessage = failure.errorMessage
    this.exitCode = failure.exitCode
    this.signal = failure.signal
  }
}

/** An emulator method was called when it cannot run, for example `restore()` twice. */
export class EmulatorStateError extends Error {
  override name = 'EmulatorStateError'
}
