/**
 * An error the runtime reports to Lambda under a `Runtime.*` type. Its `name` is that type,
 * so the error body's `errorType` and the `Lambda-Runtime-Function-Error-Type` header agree.
 */
export class RuntimeError extends Error {
  override name = 'Runtime.Unknown'

  constructor(errorType: string, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = errorType
  }
}

/** `_HANDLER` is missing, malformed, or names a file outside `LAMBDA_TASK_ROOT`. */
export class MalformedHandlerNameError extends RuntimeError {
  constructor(message: string) {
    super('Runtime.MalformedHandlerName', message)
  }
}

/** The handler's module could not be found or threw while it was loaded. */
export class ImportModuleError extends RuntimeError {
  constructor(message: string, cause?: unknown) {
    super('Runtime.ImportModuleError', message, { cause })
  }
}

/** The handler's module (or one it imports) has a syntax error. */
export class UserCodeSyntaxError extends RuntimeError {
  constructor(message: string, cause?: unknown) {
    super('Runtime.UserCodeSyntaxError', message, { cause })
  }
}

/** The module loaded, but the export `_HANDLER` names is missing or not a function. */
export class HandlerNotFoundError extends RuntimeError {
  constructor(message: string) {
    super('Runtime.HandlerNotFound', message)
  }
}

/** The handler's result could not be turned into JSON. */
export class ResponseSerializationError extends RuntimeError {
  constructor(message: string, cause?: unknown) {
    super('Runtime.SerializationError', message, { cause })
  }
}

/** The Runtime API sent an event body that is not JSON. */
export class MalformedEventError extends RuntimeError {
  constructor(message: string, cause?: unknown) {
    super('Runtime.MalformedEvent', message, { cause })
  }
}

/**
 * The Runtime API answered in a way the runtime cannot work with: an unexpected status, a
 * missing header, or a broken connection. `status` is the HTTP status, when there was one.
 */
export class RuntimeApiError extends Error {
  override name = 'RuntimeApiError'
  /** The HTTP status the Runtime API answered, if it answered. */
  readonly status: number | undefined

  constructor(message: string, status?: number, options?: { cause?: unknown }) {
    super(message, options)
    this.status = status
  }
}
