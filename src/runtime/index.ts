export { createInvocationContext } from './context.js'
export {
  HandlerNotFoundError,
  ImportModuleError,
  MalformedEventError,
  MalformedHandlerNameError,
  ResponseSerializationError,
  RuntimeApiError,
  RuntimeError,
  UserCodeSyntaxError,
} from './errors.js'
export { type HandlerFunction, type LoadedHandler, loadHandler } from './handler.js'
export {
  AFTER_RESTORE_EXIT_CODE,
  BEFORE_SNAPSHOT_EXIT_CODE,
  FATAL_EXIT_CODE,
  type RuntimeOptions,
  startRuntime,
} from './runtime.js'
export { ResponseStreamingNotSupportedError } from './streaming.js'
