import { RuntimeError } from './errors.js'

const STREAMING = Symbol.for('middy-snapstart.streaming-handler')

/**
 * Response streaming is not supported by this runtime yet. A handler wrapped with
 * `awslambda.streamifyResponse` fails init with this error.
 *
 * Limitation: response streaming (`awslambda.streamifyResponse`) fails init with
 * `Runtime.ResponseStreamingNotSupported`; use a buffered handler.
 */
export class ResponseStreamingNotSupportedError extends RuntimeError {
  constructor() {
    super(
      'Runtime.ResponseStreamingNotSupported',
      'The handler uses awslambda.streamifyResponse, but snapstart-runtime does not support ' +
        'response streaming yet. Return the whole response from an async handler instead.',
    )
  }
}

/**
 * Defines the `awslambda` global that Lambda's Node.js runtime provides, unless something
 * already did: `streamifyResponse` marks the handler so that init can refuse it clearly.
 */
export function installAwsLambdaGlobal(): void {
  const holder = globalThis as { awslambda?: unknown }
  if (holder.awslambda !== undefined) return
  holder.awslambda = {
    streamifyResponse<F extends Function>(handler: F): F {
      ;(handler as unknown as Record<symbol, boolean>)[STREAMING] = true
      return handler
    },
    HttpResponseStream: {
      from(): never {
        throw new ResponseStreamingNotSupportedError()
      },
    },
  }
}

/** True when `fn` was wrapped with `awslambda.streamifyResponse`. */
export function isStreamingHandler(fn: Function): boolean {
  return (fn as unknown as Record<symbol, unknown>)[STREAMING] === true
}
