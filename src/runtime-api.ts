// Shared by the runtime client and the emulator's Runtime API server. The runtime may be
// bundled into a startup snapshot, so this file uses nothing but the language itself.

/**
 * Lambda's limit for a synchronous invocation's event payload, in bytes (6 MB): what the
 * emulator accepts as an event and priming as a priming event.
 */
export const MAX_EVENT_BYTES = 6_291_456

/** The Runtime API's path prefix, as Lambda serves it: `/2018-06-01/runtime`. */
export const RUNTIME_API_BASE = '/2018-06-01/runtime'

/**
 * The header carrying the `Runtime.*` / `Function.*` error type on error posts, spelled as
 * the runtime sends it. Node lowercases incoming header names; read it with `toLowerCase()`.
 */
export const ERROR_TYPE_HEADER = 'Lambda-Runtime-Function-Error-Type'

/**
 * An error type Lambda accepts in the error-type header: `Runtime.` or `Function.`, then
 * a capitalised name of letters only (`Runtime.ImportModuleError`).
 */
export const VALID_ERROR_TYPE = /^(Runtime|Function)\.[A-Z][a-zA-Z]+$/
