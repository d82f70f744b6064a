import { type ChildProcess, spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { basename, dirname, extname, resolve } from 'node:path'
import { performance } from 'node:perf_hooks'
import { createInterface } from 'node:readline'
import type { Readable } from 'node:stream'
import { checkEnvironment, lambdaEnvironment } from '../lambda-environment.js'
import { INIT_BUDGET_MS, RESTORE_BUDGET_MS } from '../lifecycle.js'
import { checkMilliseconds, MAX_TIMER_MS } from '../milliseconds.js'
import { EXPORT_PATH } from '../runtime/export-path.js'
import type { ChannelReport } from '../runtime/report-channel.js'
import { MAX_EVENT_BYTES } from '../runtime-api.js'
import {
  describeAbortReason,
  forgetOnProcessExit,
  killOnProcessExit,
} from '../snapshot/child-processes.js'
import type { PhaseReport } from '../types.js'
import { EmulatorError, EmulatorStateError } from './errors.js'
import { handlerFileProblem } from './handler-file.js'
import {
  type ApiCall,
  type InvocationOutcome,
  type PendingInvocation,
  type ReportedError,
  RuntimeApiServer,
} from './server.js'
import { loaderArgs, packageRoot, runtimeBinPath } from './spawn.js'
import type { EmulatorOptions, InvocationResult, TimelineStep } from './types.js'

/** Options of `Emulator.invoke`. */
export interface InvokeOptions {
  /** This invocation's timeout in milliseconds, 1 to 2 147 483 647; default the function's. */
  timeoutMs?: number
  /** The raw event body to send instead of `JSON.stringify(event)`. */
  payload?: string
  /** Sent as `Lambda-Runtime-Client-Context` (JSON). */
  clientContext?: Record<string, unknown>
  /** Sent as `Lambda-Runtime-Cognito-Identity` (JSON). */
  identity?: { cognitoIdentityId: string; cognitoIdentityPoolId: string }
}

/** What `restore()` resolves to. */
export interface RestoreResult {
  /** The after-restore phase report, when the runtime sent one. */
  report: PhaseReport | undefined
  /**
   * Milliseconds from the restore (the runtime thawed, `restore/next` answered) until the
   * runtime asked for its first invocation: the after-restore phase plus the runtime's work.
   */
  durationMs: number
}

/** How the runtime process ended. */
export interface ExitStatus {
  code: number | null
  signal: NodeJS.Signals | null
}

/**
 * A running function: a Runtime API server and the runtime process it serves. Created by
 * `startEmulator`; always `close()` it.
 */
export interface Emulator {
  /** `127.0.0.1:port`, the `AWS_LAMBDA_RUNTIME_API` the runtime was given. */
  readonly runtimeApi: string
  /** `snap-start`, or `on-demand` with the `onDemand` option. */
  readonly mode: 'snap-start' | 'on-demand'
  /** The runtime process's id. */
  readonly pid: number | undefined
  /**
   * Milliseconds from the runtime process's start until its handler was loaded, as the
   * runtime reported it; `undefined` for a runtime without the report channel.
   */
  readonly initDurationMs: number | undefined
  /** The before-snapshot phase report (snap-start mode), once it arrived. */
  readonly beforeSnapshot: PhaseReport | undefined
  /** The after-restore phase report, once it arrived. */
  readonly afterRestore: PhaseReport | undefined
  /** Every step so far, ordered by start time. */
  readonly timeline: readonly TimelineStep[]
  /** Every Runtime API request the runtime made, in arrival order. */
  readonly apiCalls: readonly ApiCall[]
  /** Settles when the runtime process has exited. */
  readonly exited: Promise<ExitStatus>
  /**
   * Snap-start mode: thaws the runtime held at the snapshot point, answers its
   * `restore/next`, and resolves once the runtime asks for its first invocation (after its
   * after-restore hooks). Rejects with an `EmulatorError`: the runtime's error type
   * (`Runtime.AfterRestoreError`, exit 65), or `Lambda.SnapStartTimeoutException` when the
   * restore limit passes first (the runtime is then killed). Calling it again returns the
   * same promise; in on-demand mode it rejects with `EmulatorStateError`.
   */
  restore(): Promise<RestoreResult>
  /**
   * Sends one event (default `{}`) and resolves to the outcome; invocations run one at a
   * time, in call order. In snap-start mode the first call restores first when `restore()`
   * was not called; when the restore fails, `invoke()` rejects with the restore's error.
   *
   * A handler error resolves with `status: 'error'`. An invocation that runs past its
   * timeout resolves with `errorType: 'Sandbox.Timedout'` and the runtime process is killed,
   * as Lambda does. The emulator does not start a new environment: once the runtime process
   * has exited (timeout, uncaught exception, crash), later calls reject with an
   * `EmulatorError` of type `Runtime.ExitError`; start a new emulator to go on.
   *
   * A payload over `MAX_EVENT_BYTES` (6 291 456 bytes, Lambda's limit for a synchronous
   * invocation) rejects at once with an `EmulatorError` of type
   * `RequestEntityTooLargeException`; nothing is sent and the emulator stays usable.
   */
  invoke(event?: unknown, options?: InvokeOptions): Promise<InvocationResult>
  /**
   * Kills the runtime process and closes the server. Safe to call more than once. Until it
   * is called, a `process.on('exit')` listener kills the runtime process (SIGKILL) if this
   * process exits first, so a script that fails before `close()` leaves no runtime behind.
   */
  close(): Promise<void>
}

interface Settings {
  handlerFile: string
  taskRoot: string
  handler: string
  env: Record<string, string>
  snapStart: boolean
  timeoutMs: number
  memoryMb: number
  initTimeoutMs: number
  restoreTimeoutMs: number
  onLog: (line: string, stream: 'stdout' | 'stderr') => void
  runtime: { command: string; args: string[] } | undefined
  functionName: string
  functionVersion: string
  region: string
  signal: AbortSignal | undefined
}

interface Waiter {
  resolve(): void
  reject(error: unknown): void
}

const ACCOUNT = '123456789012'
const EXIT_GRACE_MS = 2_000
const KNOWN_OPTIONS = new Set([
  'handler',
  'export',
  'env',
  'onDemand',
  'timeoutSeconds',
  'memoryMb',
  'initTimeoutMs',
  'restoreTimeoutMs',
  'onLog',
  'runtime',
  'cwd',
  'functionName',
  'region',
  'signal',
])
/** The error type of an emulator stopped through its `signal`. */
const ABORTED = 'Emulator.Aborted'

/**
 * Starts a Runtime API server on 127.0.0.1 and the runtime process for `options.handler`
 * with the environment Lambda sets. Resolves once init is done: in snap-start mode after
 * the before-snapshot phase, with the runtime frozen (SIGSTOP) at the snapshot point until
 * `restore()`; on-demand, when the runtime waits for its first invocation.
 *
 * Rejects with an `EmulatorError` when init fails: the runtime's error type
 * (`Runtime.ImportModuleError`, `Runtime.BeforeSnapshotError` with exit code 64, ...),
 * `Runtime.ExitError` when the runtime exits without reporting, or `Sandbox.Timedout` when
 * the init limit passes, or `Emulator.Aborted` when `options.signal` is aborted. Nothing is
 * left running after a rejection. Bad options throw a `TypeError`.
 *
 * Limitation: freezing uses SIGSTOP/SIGCONT, so the emulator runs on Linux and macOS only,
 * and a `runtime.command` that starts the real runtime as a grandchild (npx, a shell) is
 * not frozen.
 */
export async function startEmulator(options: EmulatorOptions): Promise<Emulator> {
  const emulator = new LocalEmulator(settingsFrom(options))
  try {
    await emulator.start()
  } catch (error) {
    await emulator.close()
    throw error
  }
  return emulator
}

class LocalEmulator implements Emulator {
  readonly mode: 'snap-start' | 'on-demand'
  runtimeApi = ''
  initDurationMs: number | undefined
  beforeSnapshot: PhaseReport | undefined
  afterRestore: PhaseReport | undefined
  exited: Promise<ExitStatus>
  private readonly server: RuntimeApiServer
  private readonly steps: TimelineStep[] = []
  private readonly t0 = performance.now()
  private child: ChildProcess | undefined
  private exitStatus: ExitStatus | undefined
  private resolveExit!: (status: ExitStatus) => void
  private waiter: Waiter | undefined
  private initEnded = false
  private frozenAt: number | undefined
  private restoring: Promise<RestoreResult> | undefined
  private timer: NodeJS.Timeout | undefined
  private chain: Promise<void> = Promise.resolve()
  private current: PendingInvocation | undefined
  private endedBy: string | undefined
  private closing: Promise<void> | undefined
  private readonly arn: string
  /** Why the emulator was aborted through its signal; set once. */
  private abortReason: string | undefined
  private readonly onAbort = () => this.abort()
  /** Kills the runtime if this process exits first; registered while the runtime runs. */
  private readonly killOnExit = () => this.kill()

  constructor(private readonly settings: Settings) {
    this.mode = settings.snapStart ? 'snap-start' : 'on-demand'
    this.exited = new Promise((resolve) => {
      this.resolveExit = resolve
    })
    const qualifier = settings.snapStart ? `:${settings.functionVersion}` : ''
    const name = settings.functionName
    this.arn = `arn:aws:lambda:${settings.region}:${ACCOUNT}:function:${name}${qualifier}`
    this.server = new RuntimeApiServer(settings.snapStart, {
      report: (report) => this.onReport(report),
      snapshotPoint: () => this.onSnapshotPoint(),
      initComplete: () => this.onInitDone(),
      initError: (error) => this.onLifecycleError(error),
      restoreComplete: () => this.onRestoreComplete(),
      restoreError: (error) => this.onLifecycleError(error),
    })
  }

  get pid(): number | undefined {
    return this.child?.pid
  }

  get timeline(): readonly TimelineStep[] {
    return [...this.steps].sort((a, b) => a.startMs - b.startMs)
  }

  get apiCalls(): readonly ApiCall[] {
    return this.server.calls
  }

  /** Starts the server and the runtime; settles when init has ended. */
  async start(): Promise<void> {
    const settings = this.settings
    const signal = settings.signal
    const throwIfAborted = () => {
      if (signal?.aborted !== true) return
      this.abortReason = describeAbortReason(signal.reason)
      throw this.abortedError()
    }
    throwIfAborted()
    this.runtimeApi = await this.server.listen()
    // From here `close()` can stop everything, so an abort goes through it.
    throwIfAborted()
    signal?.addEventListener('abort', this.onAbort, { once: true })
    const env = lambdaEnvironment({
      runtimeApi: this.runtimeApi,
      handler: settings.handler,
      taskRoot: settings.taskRoot,
      snapStart: settings.snapStart,
      functionName: settings.functionName,
      functionVersion: settings.functionVersion,
      memoryMb: settings.memoryMb,
      region: settings.region,
      userEnv: settings.env,
    })
    let command = process.execPath
    let args: string[]
    if (settings.runtime !== undefined) {
      command = settings.runtime.command
      args = settings.runtime.args
    } else {
      const root = packageRoot()
      args = [...loaderArgs(settings.handlerFile, root), runtimeBinPath(root)]
    }

    const done = new Promise<void>((resolve, reject) => {
      this.waiter = { resolve, reject }
    })
    const child = spawn(command, args, {
      cwd: settings.taskRoot,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    this.child = child
    if (child.pid !== undefined) killOnProcessExit(this.killOnExit)
    child.once('exit', (code, signal) => this.onExit({ code, signal }))
    child.once('error', (error) => {
      if (child.pid !== undefined) return
      this.rejectWaiter(
        new EmulatorError({
          errorType: 'Runtime.InvalidEntrypoint',
          errorMessage: `Cannot start ${command}: ${error.message}`,
          exitCode: null,
        }),
      )
      this.onExit({ code: null, signal: null })
    })
    forwardLines(child.stdout!, 'stdout', settings.onLog)
    forwardLines(child.stderr!, 'stderr', settings.onLog)
    this.timer = setTimeout(() => {
      this.endInit('timed-out')
      void this.fail(
        'Sandbox.Timedout',
        `The init phase did not finish within ${settings.initTimeoutMs} ms`,
        true,
      )
    }, settings.initTimeoutMs)
    await done
  }

  restore(): Promise<RestoreResult> {
    if (this.restoring !== undefined) return this.restoring
    if (this.abortReason !== undefined) return Promise.reject(this.abortedError())
    if (this.mode !== 'snap-start') {
      return Promise.reject(new EmulatorStateError('restore() needs snap-start mode'))
    }
    if (this.frozenAt === undefined || this.exitStatus !== undefined) {
      return Promise.reject(this.exitedError())
    }
    this.restoring = this.thaw()
    return this.restoring
  }

  async invoke(event?: unknown, options: InvokeOptions = {}): Promise<InvocationResult> {
    const timeoutMs =
      options.timeoutMs === undefined
        ? this.settings.timeoutMs
        : checkMilliseconds(options.timeoutMs, 'invoke', 'timeoutMs')
    const payload = options.payload ?? JSON.stringify(event === undefined ? {} : event)
    const size = typeof payload === 'string' ? Buffer.byteLength(payload) : 0
    if (size > MAX_EVENT_BYTES) {
      throw new EmulatorError({
        errorType: 'RequestEntityTooLargeException',
        errorMessage:
          `The event is ${size} bytes, over Lambda's limit of ${MAX_EVENT_BYTES} bytes ` +
          '(6 MB) for a synchronous invocation payload; it was not sent',
      })
    }
    const previous = this.chain
    let release!: () => void
    this.chain = new Promise((resolve) => {
      release = resolve
    })
    await previous
    try {
      if (this.mode === 'snap-start') await this.restore()
      if (this.abortReason !== undefined) throw this.abortedError()
      if (this.exitStatus !== undefined || this.server.state !== 'ready') {
        throw this.exitedError()
      }
      const result = await this.send(payload, timeoutMs, options)
      if (this.abortReason !== undefined && result.error?.errorType === ABORTED) {
        throw this.abortedError()
      }
      return result
    } finally {
      release()
    }
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown()
    return this.closing
  }

  private async shutdown(): Promise<void> {
    this.settings.signal?.removeEventListener('abort', this.onAbort)
    clearTimeout(this.timer)
    this.kill()
    if (this.child?.pid !== undefined) await this.exited
    forgetOnProcessExit(this.killOnExit)
    await this.server.close()
  }

  /**
   * The signal was aborted: kills the runtime, closes the server, then rejects the pending
   * lifecycle step with `Emulator.Aborted`.
   */
  private abort(): void {
    if (this.abortReason !== undefined || this.closing !== undefined) return
    this.abortReason = describeAbortReason(this.settings.signal?.reason)
    this.endedBy = ABORTED
    const waiter = this.waiter
    this.waiter = undefined
    void this.close().then(() => waiter?.reject(this.withContext(this.abortedError())))
  }

  private abortedError(): EmulatorError {
    const status = this.exitStatus
    return new EmulatorError({
      errorType: ABORTED,
      errorMessage:
        `The emulator was aborted${this.abortReason}: the runtime process ` +
        `${this.child?.pid === undefined ? 'was not started' : 'was killed'} and the Runtime ` +
        'API server closed',
      exitCode: status?.code ?? null,
      signal: status?.signal ?? null,
    })
  }

  private send(
    payload: string,
    timeoutMs: number,
    options: InvokeOptions,
  ): Promise<InvocationResult> {
    return new Promise((resolve) => {
      const requestId = randomUUID()
      let startMs = 0
      let timer: NodeJS.Timeout | undefined
      const onTimeout = () => {
        this.endedBy = 'Sandbox.Timedout'
        this.server.abandon(requestId, {
          status: 'error',
          errorType: 'Sandbox.Timedout',
          errorMessage: `${requestId} Task timed out after ${seconds(timeoutMs)} seconds`,
        })
        this.kill()
      }
      const invocation: PendingInvocation = {
        requestId,
        payload,
        timeoutMs,
        invokedFunctionArn: this.arn,
        traceId: traceId(requestId),
        ...(options.clientContext ? { clientContext: JSON.stringify(options.clientContext) } : {}),
        ...(options.identity ? { identity: JSON.stringify(options.identity) } : {}),
        dispatched: () => {
          startMs = this.now()
          timer = setTimeout(onTimeout, timeoutMs)
        },
        settle: (outcome) => {
          clearTimeout(timer)
          this.current = undefined
          if (startMs === 0) startMs = this.now()
          const durationMs = this.now() - startMs
          const status = outcome.status === 'ok' ? 'ok' : timedOut(outcome) ? 'timed-out' : 'failed'
          this.steps.push({ kind: 'invoke', name: requestId, startMs, durationMs, status })
          resolve(invocationResult(requestId, outcome, durationMs))
        },
      }
      this.current = invocation
      this.server.enqueue(invocation)
    })
  }

  private thaw(): Promise<RestoreResult> {
    const startMs = this.now()
    this.steps.push({
      kind: 'frozen',
      name: 'frozen',
      startMs: this.frozenAt!,
      durationMs: startMs - this.frozenAt!,
      status: 'ok',
    })
    this.frozenAt = undefined
    return new Promise((resolve, reject) => {
      this.waiter = {
        resolve: () => {
          const durationMs = this.now() - startMs
          this.steps.push({ kind: 'restore', name: 'restore', startMs, durationMs, status: 'ok' })
          resolve({ report: this.afterRestore, durationMs })
        },
        reject: (error) => {
          const durationMs = this.now() - startMs
          const status =
            error instanceof EmulatorError && error.errorType === 'Lambda.SnapStartTimeoutException'
              ? 'timed-out'
              : 'failed'
          this.steps.push({ kind: 'restore', name: 'restore', startMs, durationMs, status })
          reject(error)
        },
      }
      this.timer = setTimeout(() => {
        void this.fail(
          'Lambda.SnapStartTimeoutException',
          `The restore did not finish within ${this.settings.restoreTimeoutMs} ms (runtime ` +
            'resume plus after-restore hooks); the runtime was stopped',
          true,
        )
      }, this.settings.restoreTimeoutMs)
      this.signal('SIGCONT')
      this.server.releaseSnapshot()
    })
  }

  private onReport(report: ChannelReport): void {
    if (report.type === 'init') {
      this.initDurationMs = report.durationMs
      this.endInit('ok')
      return
    }
    if (report.type !== 'phase') return
    const phase = report.report
    if (phase.phase === 'beforeSnapshot') this.beforeSnapshot = phase
    else this.afterRestore = phase
    let startMs = this.now() - phase.durationMs
    this.steps.push({
      kind: phase.phase,
      name: phase.phase,
      startMs,
      durationMs: phase.durationMs,
      status: phase.status,
    })
    for (const hook of phase.hooks) {
      this.steps.push({
        kind: 'hook',
        name: hook.name,
        phase: phase.phase,
        startMs,
        durationMs: hook.durationMs,
        status: hook.status,
      })
      startMs += hook.durationMs
    }
  }

  private onSnapshotPoint(): void {
    clearTimeout(this.timer)
    this.endInit('ok')
    this.signal('SIGSTOP')
    this.frozenAt = this.now()
    this.resolveWaiter()
  }

  private onInitDone(): void {
    clearTimeout(this.timer)
    this.endInit('ok')
    this.resolveWaiter()
  }

  private onRestoreComplete(): void {
    clearTimeout(this.timer)
    this.resolveWaiter()
  }

  private onLifecycleError(error: ReportedError): void {
    clearTimeout(this.timer)
    this.endInit('failed')
    void this.fail(error.errorType, error.errorMessage, false)
  }

  private onExit(status: ExitStatus): void {
    if (this.exitStatus !== undefined) return
    this.exitStatus = status
    // Its pid may soon belong to another process: nothing is left to kill.
    forgetOnProcessExit(this.killOnExit)
    clearTimeout(this.timer)
    this.server.markFailed()
    this.endInit('failed')
    this.rejectWaiter(
      new EmulatorError({
        errorType: 'Runtime.ExitError',
        errorMessage: `The runtime exited without reporting: ${describeExit(status)}`,
        exitCode: status.code,
        signal: status.signal,
      }),
    )
    if (this.current !== undefined) {
      this.server.abandon(this.current.requestId, {
        status: 'error',
        errorType: this.abortReason === undefined ? 'Runtime.ExitError' : ABORTED,
        errorMessage: `The runtime exited during the invocation: ${describeExit(status)}`,
      })
    }
    this.resolveExit(status)
  }

  /** Rejects the pending lifecycle step once the runtime has exited (killing it if asked). */
  private async fail(errorType: string, errorMessage: string, kill: boolean): Promise<void> {
    const waiter = this.waiter
    this.waiter = undefined
    if (kill) {
      this.endedBy = errorType
      this.kill()
    }
    const status = await this.waitForExit()
    waiter?.reject(
      this.withContext(
        new EmulatorError({
          errorType,
          errorMessage,
          exitCode: status.code,
          signal: status.signal,
        }),
      ),
    )
  }

  /** Waits for the runtime to exit on its own, and kills it after a grace period. */
  private async waitForExit(): Promise<ExitStatus> {
    if (this.exitStatus !== undefined) return this.exitStatus
    const grace = setTimeout(() => this.kill(), EXIT_GRACE_MS)
    const status = await this.exited
    clearTimeout(grace)
    return status
  }

  private resolveWaiter(): void {
    const waiter = this.waiter
    this.waiter = undefined
    waiter?.resolve()
  }

  private rejectWaiter(error: unknown): void {
    const waiter = this.waiter
    this.waiter = undefined
    waiter?.reject(this.withContext(error))
  }

  /** Gives a lifecycle error the steps so far and the failed phase's report. */
  private withContext(error: unknown): unknown {
    if (!(error instanceof EmulatorError)) return error
    error.timeline = [...this.steps]
    const failed = [this.afterRestore, this.beforeSnapshot].find(
      (report) => report !== undefined && report.status !== 'ok',
    )
    if (failed !== undefined) error.report = failed
    return error
  }

  private endInit(status: TimelineStep['status']): void {
    if (this.initEnded) return
    this.initEnded = true
    this.steps.push({ kind: 'init', name: 'init', startMs: 0, durationMs: this.now(), status })
  }

  private exitedError(): EmulatorError {
    const status = this.exitStatus
    const after = this.endedBy === undefined ? '' : ` after ${this.endedBy}`
    return new EmulatorError({
      errorType: 'Runtime.ExitError',
      errorMessage:
        status === undefined
          ? 'The runtime is not serving invocations'
          : `The runtime process has exited${after} (${describeExit(status)}); start a new ` +
            'emulator to go on',
      exitCode: status?.code,
      signal: status?.signal ?? null,
    })
  }

  private kill(): void {
    if (this.exitStatus === undefined && this.child?.pid !== undefined) this.child.kill('SIGKILL')
  }

  private signal(signal: NodeJS.Signals): void {
    if (this.exitStatus !== undefined || this.child?.pid === undefined) return
    try {
      process.kill(this.child.pid, signal)
    } catch {
      // The process has just exited; its exit event follows.
    }
  }

  private now(): number {
    return performance.now() - this.t0
  }
}

function invocationResult(
  requestId: string,
  outcome: InvocationOutcome,
  durationMs: number,
): InvocationResult {
  if (outcome.status === 'ok') {
    return { requestId, status: 'ok', response: parseBody(outcome.body), durationMs }
  }
  return {
    requestId,
    status: 'error',
    error: {
      errorType: outcome.errorType,
      errorMessage: outcome.errorMessage,
      ...(outcome.trace ? { trace: outcome.trace } : {}),
    },
    ...(outcome.functionErrorType ? { functionErrorType: outcome.functionErrorType } : {}),
    durationMs,
  }
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(2)
}

function timedOut(outcome: InvocationOutcome): boolean {
  return outcome.status === 'error' && outcome.errorType === 'Sandbox.Timedout'
}

function parseBody(body: string): unknown {
  try {
    return JSON.parse(body)
  } catch {
    return body
  }
}

function traceId(requestId: string): string {
  const seconds = Math.floor(Date.now() / 1000).toString(16)
  const hex = requestId.replaceAll('-', '')
  return `Root=1-${seconds}-${hex.slice(0, 24)};Parent=${hex.slice(16, 32)};Sampled=0`
}

function describeExit(status: ExitStatus): string {
  return status.signal !== null ? `signal ${status.signal}` : `exit status ${status.code}`
}

function forwardLines(
  stream: Readable,
  name: 'stdout' | 'stderr',
  onLog: (line: string, stream: 'stdout' | 'stderr') => void,
): void {
  const lines = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY })
  lines.on('line', (line) => onLog(line, name))
}

function defaultLog(line: string): void {
  process.stderr.write(`${line}\n`)
}

/** The longest function timeout whose milliseconds Node's timers keep: 2 147 483 s. */
const MAX_TIMEOUT_SECONDS = Math.floor(MAX_TIMER_MS / 1000)

/**
 * Checks the `timeoutSeconds` option (default 3): a number of seconds from 0.001 (1 ms) to
 * 2 147 483, so that its milliseconds stay within `MAX_TIMER_MS`.
 */
function timeoutSecondsFrom(value: unknown): number {
  if (value === undefined) return 3
  if (typeof value === 'number' && value >= 0.001 && value <= MAX_TIMEOUT_SECONDS) return value
  throw new TypeError(
    'startEmulator: "timeoutSeconds" must be a number of seconds from 0.001 to ' +
      `${MAX_TIMEOUT_SECONDS}`,
  )
}

function settingsFrom(options: EmulatorOptions): Settings {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError('startEmulator expects an options object such as { handler: "index.js" }')
  }
  for (const key of Object.keys(options)) {
    if (!KNOWN_OPTIONS.has(key)) {
      throw new TypeError(
        `startEmulator: unknown option "${key}"; known options: ${[...KNOWN_OPTIONS].join(', ')}`,
      )
    }
  }
  if (typeof options.handler !== 'string' || options.handler === '') {
    throw new TypeError('startEmulator: "handler" must be the path of the handler file')
  }
  const exportName = options.export ?? 'handler'
  if (typeof exportName !== 'string' || !EXPORT_PATH.test(exportName)) {
    throw new TypeError('startEmulator: "export" must be an export name such as "handler"')
  }
  const positive = (name: string, value: unknown, fallback: number): number => {
    if (value === undefined) return fallback
    if (typeof value !== 'number' || !(value > 0) || !Number.isFinite(value)) {
      throw new TypeError(`startEmulator: "${name}" must be a positive number, got ${value}`)
    }
    return value
  }
  const milliseconds = (name: string, value: unknown, fallback: number): number =>
    value === undefined ? fallback : checkMilliseconds(value, 'startEmulator', name)
  const env = checkEnvironment(options.env ?? {}, 'startEmulator')
  if (Object.hasOwn(env, 'AWS_LAMBDA_RUNTIME_API')) {
    throw new TypeError(
      'startEmulator: env.AWS_LAMBDA_RUNTIME_API cannot be set: the emulator gives the ' +
        'runtime the address of its own Runtime API',
    )
  }
  if (options.signal !== undefined && !(options.signal instanceof AbortSignal)) {
    throw new TypeError('startEmulator: "signal" must be an AbortSignal')
  }
  if (options.onLog !== undefined && typeof options.onLog !== 'function') {
    throw new TypeError('startEmulator: "onLog" must be a function')
  }
  if (options.runtime !== undefined && typeof options.runtime?.command !== 'string') {
    throw new TypeError('startEmulator: "runtime" must be { command, args? }')
  }

  const handlerFile = resolve(options.cwd ?? process.cwd(), options.handler)
  const moduleName = basename(handlerFile, extname(handlerFile))
  const problem = handlerFileProblem(handlerFile)
  if (problem !== undefined) throw new TypeError(`startEmulator: ${problem}`)
  const snapStart = options.onDemand !== true
  const timeoutMs = timeoutSecondsFrom(options.timeoutSeconds) * 1000
  return {
    handlerFile,
    taskRoot: dirname(handlerFile),
    handler: `${moduleName}.${exportName}`,
    env,
    snapStart,
    timeoutMs,
    memoryMb: positive('memoryMb', options.memoryMb, 128),
    initTimeoutMs: milliseconds(
      'initTimeoutMs',
      options.initTimeoutMs,
      Math.max(INIT_BUDGET_MS, timeoutMs),
    ),
    restoreTimeoutMs: milliseconds('restoreTimeoutMs', options.restoreTimeoutMs, RESTORE_BUDGET_MS),
    onLog: options.onLog ?? defaultLog,
    runtime:
      options.runtime === undefined
        ? undefined
        : { command: options.runtime.command, args: options.runtime.args ?? [] },
    functionName: options.functionName ?? 'snapstart-function',
    functionVersion: snapStart ? '1' : '$LATEST',
    region: options.region ?? 'us-east-1',
    signal: options.signal,
  }
}
