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
 * The `context` argument of one invocation: every field of `Context` from
 * `@types/aws-lambda`. `getRemainingTimeInMillis()` counts down to the
 * `Lambda-Runtime-Deadline-Ms` header, in milliseconds, never below 0.
 */
export class InvocationContext implements Context {
  callbackWaitsForEmptyEventLoop = true
  readonly functionName: string
  readonly functionVersion: string
  readonly invokedFunctionArn: string
  readonly memoryLimitInMB: string
  readonly awsRequestId: string
  readonly logGroupName: string
  readonly logStreamName: string
  readonly identity: CognitoIdentity | undefined
  readonly clientContext: ClientContext | undefined
  readonly tenantId: string | undefined
  readonly #deadlineMs: number
  readonly #complete: Completion

  constructor(
    info: FunctionInfo,
    requestId: string,
    headers: IncomingHttpHeaders,
    complete: Completion,
  ) {
    this.functionName = info.functionName
    this.functionVersion = info.functionVersion
    this.memoryLimitInMB = info.memoryLimitInMB
    this.logGroupName = info.logGroupName
    this.logStreamName = info.logStreamName
    this.awsRequestId = requestId
    this.invokedFunctionArn = header(headers['lambda-runtime-invoked-function-arn']) ?? ''
    this.#deadlineMs = Number(headers['lambda-runtime-deadline-ms'])
    this.identity = parseJsonHeader(headers['lambda-runtime-cognito-identity']) as
      | CognitoIdentity
      | undefined
    this.clientContext = parseJsonHeader(headers['lambda-runtime-client-context']) as
      | ClientContext
      | undefined
    this.tenantId = header(headers['lambda-runtime-aws-tenant-id'])
    this.#complete = complete
  }

  /** Milliseconds left before the function times out; 0 once the deadline has passed. */
  getRemainingTimeInMillis(): number {
    const left = this.#deadlineMs - Date.now()
    return Math.max(left, 0)
  }

  /** @deprecated Return a value from an async handler, or use the callback. */
  done(error?: Error, result?: unknown): void {
    this.#complete(error ?? null, result)
  }

  /** @deprecated Return a value from an async handler, or use the callback. */
  succeed(result?: unknown): void {
    this.#complete(null, result)
  }

  /** @deprecated Throw from an async handler, or use the callback. */
  fail(error: Error | string): void {
    this.#complete(error ?? new Error('context.fail() was called'))
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
