import type { IncomingHttpHeaders } from 'node:http'
import type { ClientContext, CognitoIdentity, Context } from 'aws-lambda'
import { log } from '../log.js'
import { ResponseSerializationError } from './errors.js'
import type { HandlerFunction } from './handler.js'

/**
 * The deadline used when `Lambda-Runtime-Deadline-Ms` is missing or not a whole number of
 * milliseconds: this many milliseconds from the event's receipt, Lambda's longest timeout.
 */
const FALLBACK_TIMEOUT_MS = 900_000

const DEADLINE = /^\d{1,15}$/

/** The function-wide part of the context, read once from the environment. */
export interface FunctionInfo {
  functionName: string
  functionVersion: string
  memoryLimitInMB: string
  logGroupName: string
  logStreamName: string
}

/** Reads the function-wide context fields from the environment Lambda sets. */
export function functionInfo(env: NodeJS.ProcessEnv): FunctionInfo {
  return {
    functionName: env.AWS_LAMBDA_FUNCTION_NAME ?? '',
    functionVersion: env.AWS_LAMBDA_FUNCTION_VERSION ?? '$LATEST',
    memoryLimitInMB: env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE ?? '128',
    logGroupName: env.AWS_LAMBDA_LOG_GROUP_NAME ?? '',
    logStreamName: env.AWS_LAMBDA_LOG_STREAM_NAME ?? '',
  }
}

/** How the deprecated `done`/`succeed`/`fail` methods end the invocation. */
export type Completion = (error: unknown, result?: unknown) => void

/** The part of the context that belongs to one invocation. */
export interface InvocationInfo {
  /** The request id, `awsRequestId`. */
  requestId: string
  /**
   * When the invocation times out, in epoch milliseconds: `getRemainingTimeInMillis()`
   * counts down to it.
   */
  deadlineMs: number
  /** The ARN the caller invoked, qualifier included; default `''`. */
  invokedFunctionArn?: string
  /** The Cognito identity of a mobile SDK caller; default `undefined`. */
  identity?: CognitoIdentity
  /** The client context of a mobile SDK caller; default `undefined`. */
  clientContext?: ClientContext
  /** The tenant of a tenant-isolated function; default `undefined`. */
  tenantId?: string
}

/**
 * Builds the `context` argument of one invocation: a plain object with every field of
 * `Context` from `@types/aws-lambda`. Its functions are closures, not prototype methods, so
 * they keep working when a middleware takes them off the object (`@middy/core` calls
 * `getRemainingTimeInMillis` detached) or copies the context with a spread.
 * `getRemainingTimeInMillis()` counts down to `invocation.deadlineMs`, in whole
 * milliseconds, never below 0. `done`, `succeed` and `fail` end the invocation through
 * `complete`.
 */
export function createInvocationContext(
  info: FunctionInfo,
  invocation: InvocationInfo,
  complete: Completion,
): Context {
  const deadlineMs = invocation.deadlineMs
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: info.functionName,
    functionVersion: info.functionVersion,
    invokedFunctionArn: invocation.invokedFunctionArn ?? '',
    memoryLimitInMB: info.memoryLimitInMB,
    awsRequestId: invocation.requestId,
    logGroupName: info.logGroupName,
    logStreamName: info.logStreamName,
    identity: invocation.identity,
    clientContext: invocation.clientContext,
    tenantId: invocation.tenantId,
    getRemainingTimeInMillis: () => Math.max(Math.floor(deadlineMs - Date.now()), 0),
    done: (error?: Error, result?: unknown) => complete(error ?? null, result),
    succeed: (result?: unknown) => complete(null, result),
    fail: (error: Error | string) => complete(error ?? new Error('context.fail() was called')),
  }
}

/**
 * Reads the invocation's part of the context from the headers of a Runtime API
 * `invocation/next` reply. When `Lambda-Runtime-Deadline-Ms` is missing or not a whole
 * number (a malformed reply), it logs one warning and the deadline is `FALLBACK_TIMEOUT_MS`
 * from now, so `getRemainingTimeInMillis()` never gives `NaN`.
 */
export function invocationFromHeaders(
  requestId: string,
  headers: IncomingHttpHeaders,
): InvocationInfo {
  return {
    requestId,
    deadlineMs: deadlineOf(headers['lambda-runtime-deadline-ms'], requestId),
    invokedFunctionArn: header(headers['lambda-runtime-invoked-function-arn']),
    identity: parseJsonHeader(headers['lambda-runtime-cognito-identity']) as
      | CognitoIdentity
      | undefined,
    clientContext: parseJsonHeader(headers['lambda-runtime-client-context']) as
      | ClientContext
      | undefined,
    tenantId: header(headers['lambda-runtime-aws-tenant-id']),
  }
}

/** Options of `invokeHandler`. */
export interface InvokeOptions {
  /**
   * When true, a callback-style handler's result is taken once the event loop is empty
   * (`beforeExit`) while `context.callbackWaitsForEmptyEventLoop` is true, as Lambda does.
   * Default false: the result is taken when the callback is called.
   */
  waitForEmptyEventLoop?: boolean
}

/**
 * Calls `handler` with `event` and the context `createContext` builds, and settles with its
 * result. A handler with three parameters gets a callback; any other is awaited, and a
 * plain return value is its result. The first of the callback, the returned promise and
 * `context.done`/`succeed`/`fail` settles the call; later ones are ignored. A throw, a
 * rejection or an error passed on rejects (a falsy error becomes an `Error`).
 */
export function invokeHandler<C extends Context>(
  handler: HandlerFunction,
  event: unknown,
  createContext: (complete: Completion) => C,
  options: InvokeOptions = {},
): Promise<unknown> {
  return new Promise((resolve, reject) => {
    let settled = false
    const settle: Completion = (error, result) => {
      if (settled) return
      settled = true
      if (error === null || error === undefined) resolve(result)
      else reject(error)
    }
    const context = createContext(settle)
    const callbackStyle = handler.length >= 3
    const waits = options.waitForEmptyEventLoop === true
    let returned: unknown
    try {
      returned = callbackStyle
        ? handler(event, context, (error: unknown, result?: unknown) => {
            if (!waits || !context.callbackWaitsForEmptyEventLoop) return settle(error, result)
            process.once('beforeExit', () => settle(error, result))
          })
        : handler(event, context)
    } catch (error) {
      settle(error ?? new Error(`The handler threw ${String(error)}`))
      return
    }
    if (isThenable(returned)) {
      returned.then(
        (value) => settle(null, value),
        (error: unknown) =>
          settle(error ?? new Error(`The handler's promise rejected with ${String(error)}`)),
      )
    } else if (!callbackStyle) {
      settle(null, returned)
    }
  })
}

/**
 * The handler's result as the JSON text a response carries: `null` for `undefined`. Throws
 * `ResponseSerializationError` (`Runtime.SerializationError`) when `JSON.stringify` cannot
 * write it (a `BigInt`, a cycle, a throwing `toJSON`).
 */
export function serializeResult(result: unknown): string {
  let body: string | undefined
  try {
    body = JSON.stringify(result)
  } catch (error) {
    throw new ResponseSerializationError(
      `Unable to serialize the handler's result to JSON: ${(error as Error).message}`,
      error,
    )
  }
  return body === undefined ? 'null' : body
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  )
}

/** The deadline in epoch milliseconds, or `FALLBACK_TIMEOUT_MS` from now for a bad header. */
function deadlineOf(value: string | string[] | undefined, requestId: string): number {
  if (typeof value === 'string' && DEADLINE.test(value.trim())) return Number(value.trim())
  log(
    'warn',
    `Lambda-Runtime-Deadline-Ms is ${value === undefined ? 'missing' : 'not a whole number'}: ` +
      `getRemainingTimeInMillis() counts down from ${FALLBACK_TIMEOUT_MS} ms`,
    { type: 'snapstart.runtimeApi', requestId },
  )
  return Date.now() + FALLBACK_TIMEOUT_MS
}

function header(value: string | string[] | undefined): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined
}

function parseJsonHeader(value: string | string[] | undefined): unknown {
  const text = header(value)
  if (text === undefined) return undefined
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}
