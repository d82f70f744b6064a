import { describeValue } from '../src/describe.js'
import { callAfter, type HandlerCallback } from './callback-handler.js'
import { primeWith } from './prime.js'
import { type SnapStartOptions, snapStart } from './snap-start.js'
import { validateSnapStartOptions } from './snap-start-options.js'

/** The request object the middleware's `before` receives, as middy builds it. */
interface Request {
  event: unknown
  context: object
  response: unknown
  error: unknown
  internal: Record<string, unknown>
}

/**
 * `snapStart(options)` for a handler not built with middy. Returns a handler of the same
 * kind (an async `(event, context)` handler, or a callback-style `(event, context,
 * callback)` one) that, before each call, does what the middleware does: puts
 * `context.snapStart` on the context, waits while an after-restore phase is running, fails
 * with the phase's error after a failed phase, and puts the `secrets` on
 * `context.<name>`. With `prime`, the returned handler itself is primed before the
 * snapshot. Options are checked here, at module load, as `snapStart()` checks them.
 *
 * ```js
 * export const handler = withSnapStart(async (event, context) => {
 *   return { restored: context.snapStart.restored }
 * }, { rngReseed: true })
 * ```
 */
export function withSnapStart<H extends Function>(handler: H, options: SnapStartOptions = {}): H {
  if (typeof handler !== 'function') {
    throw new TypeError(
      `withSnapStart: the handler must be a function, got ${describeValue(handler)}`,
    )
  }
  validateSnapStartOptions(options)
  const { prime, ...rest } = options
  const { before } = snapStart(rest)
  const request = (event: unknown, context: object): Request => ({
    event,
    context,
    response: undefined,
    error: undefined,
    internal: {},
  })

  let wrapped: Function
  if (handler.length >= 3) {
    wrapped = function withSnapStartCallbackHandler(
      event: unknown,
      context: object,
      callback: HandlerCallback,
    ) {
      const pending = before(request(event, context))
      if (pending === undefined) return handler(event, context, callback)
      return callAfter(pending, handler, event, context, callback)
    }
  } else {
    wrapped = async function withSnapStartHandler(event: unknown, context: object) {
      const pending = before(request(event, context))
      if (pending !== undefined) await pending
      return handler(event, context)
    }
  }
  if (prime !== undefined) primeWith(wrapped, prime, 'withSnapStart: "prime"')
  return wrapped as H
}
