import type { IncomingHttpHeaders } from 'node:http'
import type { ClientContext, CognitoIdentity, Context } from 'aws-lambda'
import { log } from '../log.js'

/**
 * The deadline used when `Lambda-Runtime-Deadline-Ms` is missing or not a whole number of
 * milliseconds: this many milliseconds from the event's receipt, Lambda's longest timeout.
 */
export const FALLBACK_TIMEOUT_MS = 900_000

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

/**
 * Builds the `context` argument of one invocation: a plain object with every field of
 * `Context` from `@types/aws-lambda`. Its functions are closures, not prototype methods, so
 * they keep working when a middleware takes them off the object (`@middy/core` calls
 * `getRemainingTimeInMillis` detached) or copies the context with a spread.
 * `getRemainingTimeInMillis()` counts down to the `Lambda-Runtime-Deadline-Ms` header, in
 * milliseconds, never below 0. When that header is missing or not a whole number (a
 * malformed reply), it logs one warning and counts down from `FALLBACK_TIMEOUT_MS` instead,
 * so the result is never `NaN`.
 */
export function createInvocationContext(
  info: FunctionInfo,
  requestId: string,
  headers: IncomingHttpHeaders,
  complete: Completion,
): Context {
  const deadlineMs = deadlineOf(headers['lambda-runtime-deadline-ms'], requestId)
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: info.functionName,
    functionVersion: info.functionVersion,
    invokedFunctionArn: header(headers['lambda-runtime-invoked-function-arn']) ?? '',
    memoryLimitInMB: info.memoryLimitInMB,
    awsRequestId: requestId,
    logGroupName: info.logGroupName,
    logStreamName: info.logStreamName,
    identity: parseJsonHeader(headers['lambda-runtime-cognito-identity']) as
      | CognitoIdentity
      | undefined,
    clientContext: parseJsonHeader(headers['lambda-runtime-client-context']) as
      | ClientContext
      | undefined,
    tenantId: header(headers['lambda-runtime-aws-tenant-id']),
    getRemainingTimeInMillis: () => Math.max(deadlineMs - Date.now(), 0),
    done: (error?: Error, result?: unknown) => complete(error ?? null, result),
    succeed: (result?: unknown) => complete(null, result),
    fail: (error: Error | string) => complete(error ?? new Error('context.fail() was called')),
  }
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
