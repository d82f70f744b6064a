import { performance } from 'node:perf_hooks'
import type { Context } from 'aws-lambda'
import { SnapStartPhaseError } from '../errors.js'
import { loadHostHandler, runHostAfterRestore } from '../host.js'
import { getLastReport, INIT_BUDGET_MS, markReady, runBeforeSnapshot } from '../lifecycle.js'
import { log } from '../log.js'
import { VALID_ERROR_TYPE } from '../runtime-api.js'
import { type Primer, shared } from '../state.js'
import type { PhaseName, PhaseReport } from '../types.js'
import { type ErrorBody, type NextInvocation, RuntimeApiClient } from './client.js'
import {
  createInvocationContext,
  type FunctionInfo,
  functionInfo,
  type InvocationInfo,
  invocationFromHeaders,
  invokeHandler,
  serializeResult,
} from './context.js'
import { MalformedEventError, RuntimeApiError, RuntimeError } from './errors.js'
import { type HandlerFunction, loadHandler } from './handler.js'
import type { ChannelReport } from './report-channel.js'
import { installAwsLambdaGlobal, ResponseStreamingNotSupportedError } from './streaming.js'
import { warmUpInvocationPath } from './warm-up.js'

/** Exit code after a failed before-snapshot phase (or a failed `restore/next`). */
export const BEFORE_SNAPSHOT_EXIT_CODE = 64
/** Exit code after a failed after-restore phase. */
export const AFTER_RESTORE_EXIT_CODE = 65
/**
 * Exit code after an init error, or an uncaught exception or unhandled rejection, the code
 * Lambda's own Node.js runtime uses.
 */
export const FATAL_EXIT_CODE = 129
const ERROR_NAME = /^[A-Z][a-zA-Z]+$/

type Stage = 'init' | PhaseName | 'idle' | 'invoke'

/** Options of `startRuntime`. */
export interface RuntimeOptions {
  /** The environment to read, default `process.env`. */
  env?: NodeJS.ProcessEnv
}

/**
 * Runs this process as a SnapStart-aware Lambda runtime and never returns: loads the
 * handler (`_HANDLER` under `LAMBDA_TASK_ROOT`), runs the SnapStart phases in `snap-start`
 * mode (before-snapshot hooks, `restore/next`, after-restore hooks), then serves
 * invocations. An `AWS_LAMBDA_RUNTIME_API` that is missing or not `host:port` is logged as
 * one JSON line and the process exits 1 before connecting anywhere. Failures are reported
 * to the Runtime API, then the process exits: 129 after
 * an init error, 64 after a failed before-snapshot phase, 65 after a failed after-restore
 * phase, 129 after an uncaught exception or unhandled rejection.
 *
 * Environment it reads beyond Lambda's: `SNAPSTART_EMULATOR=1` sends phase reports to the
 * emulator's report channel; the `SNAPSTART_*` configuration variables are read and applied
 * before the handler loads (a malformed one fails init with `Runtime.InvalidConfiguration`).
 * The after-restore budget is `snapStart({ restoreBudgetMs })` in code, else
 * `SNAPSTART_RESTORE_BUDGET_MS`, else `DEFAULT_RESTORE_BUDGET_MS` (9 000 ms: Lambda's
 * 10 000 ms limit less a margin for the runtime to report an overrun itself).
 */
export async function startRuntime(options: RuntimeOptions = {}): Promise<never> {
  const env = options.env ?? process.env
  const endpoint = env.AWS_LAMBDA_RUNTIME_API
  if (endpoint === undefined || endpoint === '') {
    log('error', 'AWS_LAMBDA_RUNTIME_API is not set: this process must run inside Lambda', {
      type: 'snapstart.runtime',
    })
    process.exit(1)
  }
  let client: RuntimeApiClient
  try {
    client = new RuntimeApiClient(endpoint)
  } catch (error) {
    log('error', (error as Error).message, { type: 'snapstart.runtime' })
    process.exit(1)
  }
  const runtime = new Runtime(client, endpoint, env)
  process.on('uncaughtException', (error) => {
    void runtime.fatal(error, 'Runtime.UncaughtException')
  })
  process.on('unhandledRejection', (reason) => {
    void runtime.fatal(reason, 'Runtime.UnhandledPromiseRejection')
  })
  installAwsLambdaGlobal()
  return runtime.run()
}

class Runtime {
  private stage: Stage = 'init'
  private current: string | undefined
  private dying = false
  private readonly emulated: boolean

  constructor(
    private readonly client: RuntimeApiClient,
    private readonly endpoint: string,
    private readonly env: NodeJS.ProcessEnv,
  ) {
    this.emulated = env.SNAPSTART_EMULATOR === '1'
  }

  async run(): Promise<never> {
    const handler = await this.init()
    const info = functionInfo(this.env)
    if (this.env.AWS_LAMBDA_INITIALIZATION_TYPE === 'snap-start') {
      await this.beforeSnapshot(info)
      await this.warmUp(info)
      await this.restore()
      await this.afterRestore()
    } else {
      markReady()
    }
    return this.serve(handler, info)
  }

  /** Reports a failure that escaped every handler, then exits. */
  async fatal(error: unknown, errorType: string): Promise<void> {
    if (this.dying) return
    this.dying = true
    const body = errorBody(error)
    log('error', `${errorType}: ${body.errorType}: ${body.errorMessage}`, {
      type: 'snapstart.fatal',
      stage: this.stage,
      errorType: body.errorType,
    })
    const stage = this.stage
    // Outside an invocation, say what escaped and when: no hook's report names it.
    const phase = PHASE_LABELS[stage]
    if (phase !== undefined) {
      body.errorMessage = `${escaped(errorType)} ${phase}: ${body.errorMessage}`
    }
    try {
      if (stage === 'invoke' && this.current !== undefined) {
        await this.client.postInvocationError(this.current, body, errorType)
      } else if (stage === 'init') {
        await this.client.postInitError(withStackTrace(body), errorType)
      } else if (stage === 'beforeSnapshot') {
        await this.client.postInitError(withStackTrace(body), 'Runtime.BeforeSnapshotError')
      } else if (stage === 'afterRestore') {
        await this.client.postRestoreError(withStackTrace(body), 'Runtime.AfterRestoreError')
      }
    } catch (postError) {
      logApiFailure(postError)
    }
    const code =
      stage === 'beforeSnapshot'
        ? BEFORE_SNAPSHOT_EXIT_CODE
        : stage === 'afterRestore'
          ? AFTER_RESTORE_EXIT_CODE
          : FATAL_EXIT_CODE
    process.exit(code)
  }

  private async init(): Promise<HandlerFunction> {
    const root = this.env.LAMBDA_TASK_ROOT || process.cwd()
    try {
      const fn = await loadHostHandler(this.env, async () => {
        const loaded = await loadHandler(root, this.env._HANDLER)
        if (loaded.streaming) throw new ResponseStreamingNotSupportedError()
        return loaded.fn
      })
      await this.report({ type: 'init', durationMs: performance.now() })
      return fn
    } catch (error) {
      const errorType = error instanceof RuntimeError ? error.name : 'Runtime.ImportModuleError'
      return this.exitWith('init', error, errorType, FATAL_EXIT_CODE)
    }
  }

  private async beforeSnapshot(info: FunctionInfo): Promise<void> {
    this.stage = 'beforeSnapshot'
    // Whole milliseconds, rounded down so the budget never reaches past the init limit.
    const budgetMs = Math.max(1, Math.floor(INIT_BUDGET_MS - performance.now()))
    const state = shared()
    state.primer = primerFor(info)
    try {
      await this.reportPhase(await runBeforeSnapshot({ budgetMs }))
    } catch (error) {
      await this.reportPhase(phaseReportOf(error, 'beforeSnapshot'))
      await this.exitWith('init', error, 'Runtime.BeforeSnapshotError', BEFORE_SNAPSHOT_EXIT_CODE)
    } finally {
      // Priming runs in this phase only.
      delete state.primer
    }
  }

  /**
   * Runs this runtime's own code for an invocation, over a connection held in memory and
   * with a no-op in place of the handler, so that V8 compiles it before the snapshot
   * rather than during the first invocation after the restore. It sends nothing and calls
   * no user code (see `warmUpInvocationPath`); a failure only costs that head start.
   */
  private async warmUp(info: FunctionInfo): Promise<void> {
    const start = performance.now()
    try {
      await warmUpInvocationPath(this.endpoint, (client, next) =>
        answer(client, warmUpHandler, info, next),
      )
    } catch (error) {
      log('warn', 'The runtime could not warm up its invocation path before the snapshot', {
        type: 'snapstart.warmUp',
        error: error instanceof Error ? error.message : String(error),
      })
      return
    }
    log('debug', 'The runtime warmed up its invocation path', {
      type: 'snapstart.warmUp',
      durationMs: performance.now() - start,
    })
  }

  private async restore(): Promise<void> {
    try {
      await this.client.restoreNext()
    } catch (error) {
      await this.exitWith('init', error, 'Runtime.BeforeSnapshotError', BEFORE_SNAPSHOT_EXIT_CODE)
    }
    // The connection opened before the snapshot does not survive a real restore.
    this.client.resetConnection()
  }

  private async afterRestore(): Promise<void> {
    this.stage = 'afterRestore'
    try {
      await this.reportPhase(await runHostAfterRestore(this.env))
    } catch (error) {
      await this.reportPhase(phaseReportOf(error, 'afterRestore'))
      await this.exitWith('restore', error, 'Runtime.AfterRestoreError', AFTER_RESTORE_EXIT_CODE)
    }
  }

  /**
   * The invocation loop. One function, called before the first event arrives, so nothing
   * of it is compiled during the first invocation after a restore.
   */
  private async serve(handler: HandlerFunction, info: FunctionInfo): Promise<never> {
    this.stage = 'idle'
    for (;;) {
      try {
        const next = await this.client.nextInvocation()
        this.current = next.requestId
        this.stage = 'invoke'
        await answer(this.client, handler, info, next)
      } catch (error) {
        logApiFailure(error)
        process.exit(1)
      }
      this.current = undefined
      this.stage = 'idle'
    }
  }

  private async exitWith(
    endpoint: 'init' | 'restore',
    error: unknown,
    errorType: string,
    code: number,
  ): Promise<never> {
    this.dying = true
    const body = withStackTrace(errorBody(error))
    log('error', `${errorType}: ${body.errorMessage}`, {
      type: 'snapstart.lifecycleError',
      errorType,
    })
    try {
      if (endpoint === 'init') await this.client.postInitError(body, errorType)
      else await this.client.postRestoreError(body, errorType)
    } catch (postError) {
      logApiFailure(postError)
    }
    process.exit(code)
  }

  private reportPhase(report: PhaseReport | undefined): Promise<void> {
    return report === undefined ? Promise.resolve() : this.report({ type: 'phase', report })
  }

  /** Sends a report on the emulator's channel; nothing at all outside the emulator. */
  private async report(report: ChannelReport): Promise<void> {
    if (!this.emulated) return
    try {
      await this.client.postReport(report)
    } catch (error) {
      log('debug', 'The emulator did not take a report', {
        type: 'snapstart.report',
        error: error instanceof Error ? error.message : String(error),
      })
    }
  }
}

/**
 * Answers one invocation through `client`: sets the trace id, calls the handler, posts its
 * result or its error. A post the Runtime API refuses (with a status) is logged; a post
 * that does not reach it rejects. The real loop and the warm-up both run this.
 */
async function answer(
  client: RuntimeApiClient,
  handler: HandlerFunction,
  info: FunctionInfo,
  next: NextInvocation,
): Promise<void> {
  const requestId = next.requestId
  setTraceId(next.headers['lambda-runtime-trace-id'])

  let body: string | undefined
  let failure: unknown
  let failed = false
  try {
    const invocation = invocationFromHeaders(requestId, next.headers)
    body = await callHandler(handler, info, invocation, next.body, undefined)
  } catch (error) {
    failed = true
    failure = error
  }

  try {
    if (failed) {
      const errorJson = errorBody(failure)
      log('error', 'Invoke Error', {
        type: 'snapstart.invokeError',
        requestId,
        errorType: errorJson.errorType,
        errorMessage: errorJson.errorMessage,
      })
      await client.postInvocationError(requestId, errorJson, invocationErrorType(failure))
    } else {
      await client.postResponse(requestId, body!)
    }
  } catch (error) {
    if (!(error instanceof RuntimeApiError) || error.status === undefined) throw error
    logApiFailure(error)
  }
}

/**
 * The handler's part of an invocation, shared by real invocations and priming: parses the
 * event, builds the context (`prepare` marks a priming one), calls the handler and
 * serializes its result. Rejects with the handler's error, `MalformedEventError` or
 * `ResponseSerializationError`.
 */
async function callHandler(
  handler: HandlerFunction,
  info: FunctionInfo,
  invocation: InvocationInfo,
  payload: string,
  prepare: ((context: object) => void) | undefined,
): Promise<string> {
  const event = parseEvent(payload)
  const result = await invokeHandler(
    handler,
    event,
    (complete) => {
      const context = createInvocationContext(info, invocation, complete)
      prepare?.(context)
      return context
    },
    // Priming runs inside init, whose event loop never empties.
    { waitForEmptyEventLoop: prepare === undefined },
  )
  return serializeResult(result)
}

/** Priming through `callHandler`, so it compiles what real invocations run. */
function primerFor(info: FunctionInfo): Primer {
  return (handler, call) =>
    callHandler(
      handler as HandlerFunction,
      info,
      {
        requestId: call.requestId,
        deadlineMs: call.deadlineMs,
        invokedFunctionArn: call.invokedFunctionArn,
      },
      call.payload,
      call.prepare,
    )
}

/**
 * What the warm-up calls in place of the handler: async, as most handlers are, and reading
 * the time left, as middy does on every invocation.
 */
async function warmUpHandler(_event: unknown, context: Context): Promise<unknown> {
  return { statusCode: 200, body: String(context.getRemainingTimeInMillis()) }
}

/** Sets `_X_AMZN_TRACE_ID`, writing the environment (a `setenv` call) only on a change. */
function setTraceId(trace: string | string[] | undefined): void {
  const env = process.env
  if (typeof trace === 'string') {
    if (env._X_AMZN_TRACE_ID !== trace) env._X_AMZN_TRACE_ID = trace
  } else if (env._X_AMZN_TRACE_ID !== undefined) {
    delete env._X_AMZN_TRACE_ID
  }
}

function parseEvent(body: string): unknown {
  try {
    return JSON.parse(body)
  } catch (error) {
    throw new MalformedEventError(
      `The Runtime API sent an event that is not JSON: ${(error as Error).message}`,
      error,
    )
  }
}

/** How a failure that escaped every handler is placed in time, by the stage it ended. */
const PHASE_LABELS: Partial<Record<Stage, string>> = {
  init: 'during init',
  beforeSnapshot: 'during the before-snapshot phase',
  afterRestore: 'during the after-restore phase',
}

/** `Runtime.UncaughtException` as words: what escaped. */
function escaped(errorType: string): string {
  return errorType === 'Runtime.UnhandledPromiseRejection'
    ? 'An unhandled promise rejection'
    : 'An uncaught exception'
}

/** Lambda's error body: the error's own class name, its message and its stack lines. */
function errorBody(error: unknown): ErrorBody {
  if (error instanceof Error) {
    return {
      errorType: error.name,
      errorMessage: error.message,
      trace: typeof error.stack === 'string' ? error.stack.split('\n') : [],
    }
  }
  const message = typeof error === 'string' ? error : safeJson(error)
  return { errorType: 'Error', errorMessage: message, trace: [] }
}

/** Init and restore errors carry the stack as `stackTrace`, as Lambda's own runtimes do. */
function withStackTrace(body: ErrorBody): ErrorBody {
  return { errorType: body.errorType, errorMessage: body.errorMessage, stackTrace: body.trace }
}

/**
 * The error-type header of an invocation error: a `Runtime.*` error keeps its type, any
 * other error becomes `Function.<ErrorName>` (`Function.Error` when the name does not fit).
 */
function invocationErrorType(error: unknown): string {
  const name = error instanceof Error ? error.name : 'Error'
  if (VALID_ERROR_TYPE.test(name)) return name
  return ERROR_NAME.test(name) ? `Function.${name}` : 'Function.Error'
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value)
  } catch {
    return String(value)
  }
}

function phaseReportOf(error: unknown, phase: PhaseName): PhaseReport | undefined {
  return error instanceof SnapStartPhaseError ? error.report : getLastReport(phase)
}

function logApiFailure(error: unknown): void {
  log('error', error instanceof Error ? error.message : String(error), {
    type: 'snapstart.runtimeApi',
    ...(error instanceof RuntimeApiError && error.status !== undefined
      ? { status: error.status }
      : {}),
  })
}
