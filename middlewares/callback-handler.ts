/** The callback Lambda gives a callback-style handler. */
export type HandlerCallback = (error: unknown, value?: unknown) => void

/**
 * Calls a callback-style `handler` once `pending` resolves, and answers through `callback`
 * whatever happens after that: the `pending` rejection, a synchronous throw of the handler,
 * or the settling of a promise it returns. Nothing is left as an unhandled rejection, since
 * once the wrapper has returned, `callback` is the only way left to answer the invocation.
 */
export function callAfter(
  pending: Promise<unknown>,
  handler: Function,
  event: unknown,
  context: unknown,
  callback: HandlerCallback,
): undefined {
  pending.then(
    () => callHandler(handler, event, context, callback),
    (error: unknown) => callback(error),
  )
  return undefined
}

function callHandler(
  handler: Function,
  event: unknown,
  context: unknown,
  callback: HandlerCallback,
): void {
  let result: unknown
  try {
    result = handler(event, context, callback)
  } catch (error) {
    callback(error)
    return
  }
  settleWith(callback, result)
}

/** Sends a callback-style handler's returned promise, if any, to its callback. */
function settleWith(callback: HandlerCallback, result: unknown): void {
  if (result === null || typeof result !== 'object' || !('then' in result)) return
  ;(result as PromiseLike<unknown>).then(
    (value) => callback(null, value),
    (error: unknown) => callback(error ?? new Error('The handler rejected without a reason')),
  )
}
