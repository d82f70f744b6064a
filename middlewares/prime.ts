import { describeValue, errorText } from '../src/describe.js'
import { getInitializationType } from '../src/lifecycle.js'
import { log } from '../src/log.js'
import { registerResource } from '../src/registry.js'
import {
  type Completion,
  createInvocationContext,
  type FunctionInfo,
  invokeHandler,
} from '../src/runtime/context.js'
import type { HandlerFunction } from '../src/runtime/handler.js'
import { shared } from '../src/state.js'
import type { PhaseContext } from '../src/types.js'

/**
 * The priority tier of priming: the lowest, so that before the snapshot it runs first, while
 * pools are still open and before secrets are settled; whatever it opens, they then close.
 */
export const PRIME_PRIORITY = -1000

/** Marks a context built for a priming invocation; `snapStart()` reads it. */
export const PRIMING = Symbol.for('middy-snapstart.priming')

/**
 * Whether `context` belongs to a priming invocation. Priming runs inside the before-snapshot
 * phase, so a middleware that waits for a running phase must not wait for this one.
 */
export function isPriming(context: object): boolean {
  return (context as { [PRIMING]?: true })[PRIMING] === true
}

/** Options of priming. */
export interface PrimeOptions {
  /** Synthetic events, each sent through the handler before the snapshot. */
  events: unknown[]
  /** Rounds: each event is sent this many times, default 1. */
  times?: number
  /** When true, a failed priming invocation logs a warning instead of failing the snapshot. */
  optional?: boolean
}

/** A priming invocation failed. The message names the event and the round. */
export class SnapStartPrimingError extends Error {
  override name = 'SnapStartPrimingError'
  /** Index of the event in `events`, from 0. */
  readonly event: number
  /** Round, from 1. */
  readonly round: number

  constructor(event: number, round: number, times: number, cause: unknown) {
    const reason = errorText(cause)
    super(`Priming event #${event} (round ${round} of ${times}) failed: ${reason}`, { cause })
    this.event = event
    this.round = round
  }
}

const primed = new WeakMap<object, unknown>()

/**
 * Runs `handler` with each of `options.events` before the snapshot (`times` rounds), so
 * lazy imports, first-time code paths and compilation are done when an environment is
 * restored. Each call gets a fresh context with its own request id, a deadline and
 * `context.snapStart.priming === true`, so the handler can skip side effects. Returns
 * `handler`, so it wraps an export in place.
 */
export function primeHandler<H extends Function>(handler: H, options: PrimeOptions): H {
  if (typeof handler !== 'function') {
    throw new TypeError(
      `primeHandler: the handler must be a function, got ${describeValue(handler)}`,
    )
  }
  const { events, times, optional } = validatePrime(options, 'primeHandler')
  if (primed.has(handler)) return handler
  primed.set(handler, options)
  registerPriming(() => handler, events, times, optional)
  return handler
}

/**
 * Registers priming of the handler the runtime loaded; used by `snapStart({ prime })`,
 * which sits inside the chain and cannot reach it otherwise.
 */
export function registerRuntimePriming(options: PrimeOptions): void {
  const { events, times, optional } = validatePrime(options, 'snapStart: "prime"')
  if (primed.has(options)) return
  primed.set(options, options)
  registerPriming(
    () => {
      const handler = shared().handler
      if (handler !== undefined) return handler
      throw new Error(
        'snapStart({ prime }) primes the handler that the snapstart runtime loaded, and no ' +
          'runtime provided one. Outside the runtime, wrap the handler with ' +
          'primeHandler(handler, { events }) instead.',
      )
    },
    events,
    times,
    optional,
  )
}

function registerPriming(
  resolve: () => Function,
  events: unknown[],
  times: number,
  optional: boolean,
): void {
  registerResource({
    name: 'prime',
    priority: PRIME_PRIORITY,
    async beforeSnapshot(phase: PhaseContext) {
      const handler = resolve()
      let invocations = 0
      for (let round = 1; round <= times; round++) {
        for (const [index, event] of events.entries()) {
          try {
            const number = ++invocations
            await invokeHandler(handler as HandlerFunction, structuredClone(event), (complete) =>
              primingContext(phase, number, complete),
            )
          } catch (cause) {
            const error = new SnapStartPrimingError(index, round, times, cause)
            if (!optional) throw error
            log('warn', error.message, { type: 'snapstart.priming', event: index, round })
          }
        }
      }
      return { invocations }
    },
  })
}

/**
 * A context with every field of Lambda's `Context`, marked as priming: `snapStart.priming`
 * and `PRIMING`. Its deadline is the time left in the before-snapshot phase.
 */
function primingContext(phase: PhaseContext, invocation: number, complete: Completion) {
  const env = process.env
  const functionName = env.AWS_LAMBDA_FUNCTION_NAME ?? 'local'
  const region = env.AWS_REGION ?? 'us-east-1'
  const info: FunctionInfo = {
    functionName,
    functionVersion: env.AWS_LAMBDA_FUNCTION_VERSION ?? '$LATEST',
    memoryLimitInMB: env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE ?? '128',
    logGroupName: env.AWS_LAMBDA_LOG_GROUP_NAME ?? `/aws/lambda/${functionName}`,
    logStreamName: env.AWS_LAMBDA_LOG_STREAM_NAME ?? 'snapstart-priming',
  }
  const context = createInvocationContext(
    info,
    {
      requestId: `prime-${process.pid}-${invocation}`,
      // Lambda's getRemainingTimeInMillis() gives whole milliseconds.
      deadlineMs: Date.now() + Math.floor(phase.remainingMs()),
      invokedFunctionArn: `arn:aws:lambda:${region}:000000000000:function:${functionName}`,
    },
    complete,
  )
  return Object.assign(context, {
    snapStart: Object.freeze({
      initializationType: getInitializationType(),
      restored: false,
      firstInvocationAfterRestore: false,
      priming: true,
    }),
    [PRIMING]: true as const,
  })
}

function validatePrime(options: PrimeOptions, where: string) {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`${where}: options must be an object such as { events: [{}] }`)
  }
  for (const key of Object.keys(options)) {
    if (key !== 'events' && key !== 'times' && key !== 'optional') {
      throw new TypeError(`${where}: unknown option "${key}"; known: events, times, optional`)
    }
  }
  const { events, times = 1, optional = false } = options
  if (!Array.isArray(events) || events.length === 0) {
    throw new TypeError(`${where}: "events" must be a non-empty array of events`)
  }
  if (!Number.isInteger(times) || times < 1) {
    throw new TypeError(`${where}: "times" must be a whole number of at least 1`)
  }
  if (typeof optional !== 'boolean') {
    throw new TypeError(`${where}: "optional" must be a boolean`)
  }
  for (const [index, event] of events.entries()) {
    try {
      structuredClone(event)
    } catch {
      throw new TypeError(`${where}: event #${index} cannot be cloned; use plain JSON data`)
    }
  }
  return { events, times, optional }
}
