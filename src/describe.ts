// Used by the runtime and the lifecycle, which may be bundled into a startup snapshot: this
// file uses nothing but the language itself.

/**
 * An error's class name, never its message, for text that must not carry what a message
 * may hold (a secret, a user's data). A thrown non-`Error` gives `otherwise`; by default
 * its `typeof`.
 */
export function errorName(error: unknown, otherwise: string = typeof error): string {
  return error instanceof Error ? error.name : otherwise
}

/**
 * An error as `name: message`, for messages where the error's own text is safe to repeat.
 * A thrown non-`Error` gives `otherwise`; by default its `typeof`.
 */
export function errorText(error: unknown, otherwise: string = typeof error): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : otherwise
}

/**
 * An error's name and message, for phase reports and logs. A thrown non-`Error` gives
 * the name `NonError` and a message naming its `typeof`, never its value.
 */
export function errorSummary(error: unknown): { name: string; message: string } {
  if (error instanceof Error) return { name: error.name, message: error.message }
  return { name: 'NonError', message: `a hook threw a non-Error value (${typeof error})` }
}

/**
 * A short description of a value for option errors (`null`, `an array`, `an object` or
 * its `typeof`); never the value of a string.
 */
export function describeValue(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  return typeof value === 'object' ? 'an object' : typeof value
}

/**
 * Like `describeValue`, but names a function (`a function connect`) and an object's class
 * (`an instance of Pool`, else `a plain object`), for messages about a resource that was
 * not recognised.
 */
export function describeInstance(value: unknown): string {
  if (typeof value === 'function') return `a function ${value.name || '(anonymous)'}`
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return describeValue(value)
  }
  const ctor = (value as { constructor?: { name?: unknown } }).constructor
  return typeof ctor?.name === 'string' && ctor.name !== 'Object'
    ? `an instance of ${ctor.name}`
    : 'a plain object'
}
