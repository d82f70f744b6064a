import type { IncomingHttpHeaders } from 'node:http'
import type { ClientContext, CognitoIdentity, Context } from 'aws-lambda'

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
 * milliseconds, never below 0.
 */
export function createInvocationContext(
  info: FunctionInfo,
  requestId: string,
  headers: IncomingHttpHeaders,
  complete: Completion,
): Context {
  const deadlineMs = Number(headers['lambda-runtime-deadline-ms'])
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
