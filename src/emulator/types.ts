/** Options of `startEmulator`. */
export interface EmulatorOptions {
  /** Path to the handler file (.js, .mjs, .cjs or .ts), relative to `cwd` or absolute. */
  handler: string
  /** The export to call, default `handler`. Dotted paths (`api.get`) reach nested exports. */
  export?: string
  /**
   * Extra environment for the function, applied over the variables Lambda sets.
   * `AWS_LAMBDA_RUNTIME_API` is refused with a `TypeError`: the runtime must talk to this
   * emulator. `_HANDLER`, `LAMBDA_TASK_ROOT` and `AWS_LAMBDA_INITIALIZATION_TYPE` may be
   * overridden here, to test how a runtime handles unusual values; the CLI refuses them.
   */
  env?: Record<string, string>
  /** Start in on-demand mode: no hooks, no `restore/next`. Default `false` (snap-start). */
  onDemand?: boolean
  /** Function timeout in seconds, default 3 (Lambda's default), at most 2 147 483. */
  timeoutSeconds?: number
  /** Memory size in MB, reported to the function, default 128. */
  memoryMb?: number
  /**
   * Init limit in milliseconds (init plus before-snapshot hooks), default 130 000, at most
   * 2 147 483 647 (`MAX_TIMER_MS`).
   */
  initTimeoutMs?: number
  /**
   * Restore limit in milliseconds (runtime resume plus after-restore hooks), default 10 000,
   * at most 2 147 483 647 (`MAX_TIMER_MS`).
   */
  restoreTimeoutMs?: number
  /** Where the function's own stdout/stderr lines go, default: this process's stderr. */
  onLog?: (line: string, stream: 'stdout' | 'stderr') => void
  /**
   * The runtime process to start instead of `snapstart-runtime`, for example AWS's own
   * `aws-lambda-ric`. `args` follow `command`; `_HANDLER` is set as for the default runtime.
   */
  runtime?: { command: string; args?: string[] }
  /** Working directory for resolving `handler`, default `process.cwd()`. */
  cwd?: string
  /** `AWS_LAMBDA_FUNCTION_NAME`, default `snapstart-function`. */
  functionName?: string
  /** `AWS_REGION` and `AWS_DEFAULT_REGION`, default `us-east-1`. */
  region?: string
  /**
   * Aborting it stops the emulator: the runtime process is killed, the server closed, and a
   * pending `startEmulator`, `restore()` or `invoke()` rejects with an `EmulatorError` of
   * type `Emulator.Aborted`. An already-aborted signal rejects before anything starts.
   */
  signal?: AbortSignal
}

/** One step of the run, as the timeline shows it. Times are milliseconds from the start. */
export interface TimelineStep {
  kind: 'init' | 'beforeSnapshot' | 'hook' | 'frozen' | 'restore' | 'afterRestore' | 'invoke'
  name: string
  /** Phase the hook belongs to, for `kind: 'hook'`. */
  phase?: 'beforeSnapshot' | 'afterRestore'
  startMs: number
  durationMs: number
  status: 'ok' | 'failed' | 'skipped' | 'timed-out'
}

/** The outcome of one invocation. */
export interface InvocationResult {
  requestId: string
  status: 'ok' | 'error'
  /** The parsed response body, when status is `ok`. */
  response?: unknown
  /** Lambda's error shape, when status is `error`. */
  error?: { errorType: string; errorMessage: string; trace?: string[] }
  /**
   * The `Lambda-Runtime-Function-Error-Type` header the runtime sent with the error,
   * validated (`Runtime.Unknown` when malformed). Absent for errors the emulator produced
   * (timeouts, oversize responses, a runtime that exited).
   */
  functionErrorType?: string
  /** Milliseconds from the runtime receiving the event until it answered. */
  durationMs: number
}

/** A lifecycle failure, with the Lambda error type (`Runtime.*` or `Lambda.*`). */
export interface EmulatorFailure {
  errorType: string
  errorMessage: string
  /** The runtime process's exit code, when it exited. */
  exitCode?: number | null
}
