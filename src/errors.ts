import type { PhaseName, PhaseReport } from './types.js'

/**
 * A lifecycle phase failed. `report` is the phase report (every hook's status and timing),
 * `hook` names the hook that failed and `cause` keeps the original error.
 */
export class SnapStartPhaseError extends Error {
  override name = 'SnapStartPhaseError'
  /** The phase that failed. */
  readonly phase: PhaseName
  /** The name of the hook that failed, as it appears in the report. */
  readonly hook: string
  /** The full report of the failed phase. */
  readonly report: PhaseReport

  constructor(
    message: string,
    details: { phase: PhaseName; hook: string; report: PhaseReport; cause?: unknown },
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause })
    this.phase = details.phase
    this.hook = details.hook
    this.report = details.report
  }
}

/**
 * A phase ran over its time budget. `hook` names the hook that was running when the budget
 * ran out; `elapsedMs` is the phase's elapsed time at that moment, in milliseconds.
 */
export class SnapStartTimeoutError extends SnapStartPhaseError {
  override name = 'SnapStartTimeoutError'
  /** Milliseconds the phase had run when it was stopped. */
  readonly elapsedMs: number
  /** The phase's budget, in milliseconds. */
  readonly budgetMs: number

  constructor(
    message: string,
    details: {
      phase: PhaseName
      hook: string
      report: PhaseReport
      elapsedMs: number
      budgetMs: number
    },
  ) {
    super(message, details)
    this.elapsedMs = details.elapsedMs
    this.budgetMs = details.budgetMs
  }
}

/**
 * A hook was registered for a phase that has already run, with strict registration on.
 * Without strict registration the same situation logs one warning instead.
 */
export class SnapStartLateRegistrationError extends Error {
  override name = 'SnapStartLateRegistrationError'
  /** The phase that has already run. */
  readonly phase: PhaseName
  /** The name of the hook that came too late. */
  readonly hook: string

  constructor(phase: PhaseName, hook: string) {
    super(
      `Hook "${hook}" was registered for ${phase} after that phase had already run, so it ` +
        'will not run in this environment. Register hooks at module load (during init).',
    )
    this.phase = phase
    this.hook = hook
  }
}

/** A phase was started while another phase was still running. */
export class SnapStartStateError extends Error {
  override name = 'SnapStartStateError'
}

/**
 * An option holds a value its function cannot use. Its `message` is worded for the function
 * that was called (`secretRefresh: secret "db": "timeoutMs" must be ...`); `path` and
 * `problem` hold the same complaint in parts, for a caller that checked the option on behalf
 * of its own options and words the complaint its own way (`snapStart: "secrets.db.timeoutMs"
 * must be ...`). Its `name` stays `TypeError`, and `path` and `problem` are getters, not own
 * properties, so it prints and compares like the `TypeError` it stands for. Internal: not
 * exported from the package.
 */
export class OptionError extends TypeError {
  readonly #path: readonly string[]
  readonly #problem: string

  /**
   * @param message - the message, worded for the function that was called.
   * @param path - see `path`.
   * @param problem - see `problem`.
   */
  constructor(message: string, path: readonly string[], problem: string) {
    super(message)
    this.#path = Object.freeze([...path])
    this.#problem = problem
  }

  /**
   * The option's path from the top of the options, one key per segment: `['refresh']`,
   * `['secrets', 'db', 'timeoutMs']`. Empty when `problem` says itself what it is about
   * (`unknown option "cache"; known options: ...`).
   */
  get path(): readonly string[] {
    return this.#path
  }

  /** What is wrong, worded to follow the quoted path: `must be a boolean`. */
  get problem(): string {
    return this.#problem
  }
}
