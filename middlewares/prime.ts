import { describeValue, errorText } from '../src/describe.js'
import { log } from '../src/log.js'
import { registerResource } from '../src/registry.js'
import {
  createInvocationContext,
  type FunctionInfo,
  invokeHandler,
} from '../src/runtime/context.js'
import type { HandlerFunction } from '../src/runtime/handler.js'
import { type Primer, shared } from '../src/state.js'
import type { PhaseContext } from '../src/types.js'
import { type SnapStartContext, snapStartContext } from './snap-start-context.js'

/**
 * The priority tier of priming: the lowest, so that before the snapshot it runs first, while
 * pools are still open and before secrets are settled; whatever it opens, they then close.
 */
export const PRIME_PRIORITY = -1000

/**
 * Whether `context` belongs to a priming invocation. Priming runs inside the before-snapshot
 * phase, so a middleware that waits for a running phase must not wait for this one.
 */
export function isPriming(context: object): boolean {
  return shared().primingContexts?.has(context) === true
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
  const { payloads, times, optional } = validatePrime(options, 'primeHandler')
  if (primed.has(handler)) return handler
  primed.set(handler, options)
  registerPriming(() => handler, payloads, times, optional)
  return handler
}

/**
 * Registers priming of the handler the runtime loaded; used by `snapStart({ prime })`,
 * which sits inside the chain and cannot reach it otherwise.
 */
export function registerRuntimePriming(options: PrimeOptions): void {
  const { payloads, times, optional } = validatePrime(options, 'snapStart: "prime"')
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
    payloads,
    times,
    optional,
  )
}

function registerPriming(
  resolve: () => Function,
  payloads: string[],
  times: number,
  optional: boolean,
): void {
  registerResource({
    name: 'prime',
    priority: PRIME_PRIORITY,
    async beforeSnapshot(phase: PhaseContext) {
      const handler = resolve()
      try {
        return { invocations: await primeRounds(handler, phase, payloads, times, optional) }
      } finally {
        // The marks are read only as priming invocations start.
        delete shared().primingContexts
      }
    },
  })
}

/** Sends every payload `times` rounds through `handler`; resolves to the invocation count. */
async function primeRounds(
  handler: Function,
  phase: PhaseContext,
  payloads: string[],
  times: number,
  optional: boolean,
): Promise<number> {
  // The runtime's own invocation path when a runtime hosts this phase, so that priming
  // compiles the code real invocations run; this module's copy of it otherwise.
  const primer = shared().primer ?? primeHere
  const arn = primingArn()
  let invocations = 0
  for (let round = 1; round <= times; round++) {
    for (const [index, payload] of payloads.entries()) {
      try {
        const number = ++invocations
        await primer(handler, {
          payload,
          requestId: `prime-${process.pid}-${number}`,
          deadlineMs: Date.now() + Math.floor(phase.remainingMs()),
          invokedFunctionArn: arn,
          prepare: preparePrimingContext,
        })
      } catch (cause) {
        const error = new SnapStartPrimingError(index, round, times, cause)
        if (!optional) throw error
        log('warn', error.message, { type: 'snapstart.priming', event: index, round })
      }
    }
  }
  return invocations
}

/** Marks `context` as priming and gives it `snapStart`, as `snapStart()` would. */
function preparePrimingContext(context: object): void {
  const state = shared()
  state.primingContexts ??= new WeakSet()
  state.primingContexts.add(context)
  ;(context as { snapStart?: SnapStartContext }).snapStart = snapStartContext(false, false, true)
}

function primingArn(): string {
  const env = process.env
  const region = env.AWS_REGION ?? 'us-east-1'
  return `arn:aws:lambda:${region}:000000000000:function:${functionName()}`
}

function functionName(): string {
  return process.env.AWS_LAMBDA_FUNCTION_NAME ?? 'local'
}

/**
 * Priming without a runtime (tests, the snapshot entry): the event parsed from its JSON, a
 * context with every field of Lambda's `Context` from the environment Lambda sets.
 */
const primeHere: Primer = (handler, call) => {
  const env = process.env
  const name = functionName()
  const info: FunctionInfo = {
    functionName: name,
    functionVersion: env.AWS_LAMBDA_FUNCTION_VERSION ?? '$LATEST',
    memoryLimitInMB: env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE ?? '128',
    logGroupName: env.AWS_LAMBDA_LOG_GROUP_NAME ?? `/aws/lambda/${name}`,
    logStreamName: env.AWS_LAMBDA_LOG_STREAM_NAME ?? 'snapstart-priming',
  }
  const invocation = {
    requestId: call.requestId,
    deadlineMs: call.deadlineMs,
    invokedFunctionArn: call.invokedFunctionArn,
  }
  return invokeHandler(handler as HandlerFunction, JSON.parse(call.payload), (complete) => {
    const context = createInvocationContext(info, invocation, complete)
    call.prepare(context)
    return context
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
  // Each event is sent as JSON, as Lambda sends a real one; its text is fixed here.
  const payloads = events.map((event, index) => {
    let payload: string | undefined
    try {
      payload = JSON.stringify(event)
    } catch (error) {
      throw new TypeError(`${where}: event #${index} is not JSON data: ${errorText(error)}`)
    }
    if (payload === undefined) {
      throw new TypeError(
        `${where}: event #${index} is not JSON data (its type is ${describeValue(event)}); ` +
          'events reach a handler as JSON',
      )
    }
    return payload
  })
  return { payloads, times, optional }
}
