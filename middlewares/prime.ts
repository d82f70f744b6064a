import { describeInstance, describeValue, errorText } from '../src/describe.js'
import { log } from '../src/log.js'
import { registerResource } from '../src/registry.js'
import {
  createInvocationContext,
  type FunctionInfo,
  invokeHandler,
  serializeResult,
} from '../src/runtime/context.js'
import type { HandlerFunction } from '../src/runtime/handler.js'
import { MAX_EVENT_BYTES } from '../src/runtime-api.js'
import { type Primer, type PrimingMark, shared } from '../src/state.js'
import type { PhaseContext } from '../src/types.js'
import { type SnapStartContext, snapStartContext } from './snap-start-context.js'

/**
 * The priority tier of priming: the lowest, so that before the snapshot it runs first, while
 * pools are still open and before secrets are settled; whatever it opens, they then close.
 */
export const PRIME_PRIORITY = -1000

/** The most rounds `times` may ask for. */
export const MAX_PRIME_TIMES = 10_000

/**
 * Whether `context` belongs to a priming invocation, for its whole life: a middleware that
 * waits for a running phase must not wait for priming, and work a priming invocation left
 * behind is still priming when it runs later.
 */
export function isPriming(context: object): boolean {
  return shared().primingContexts?.has(context) === true
}

/**
 * What `snapStart()` does with a priming context: `undefined` when `context` is not one;
 * otherwise `'continue'`, or `'stop'` when the priming was asked for by the `prime` options
 * of another `snapStart()` than this one (`own`): the runtime loaded a handler of another
 * chain, and this event is not meant for it. A stopped invocation must not reach the handler.
 */
export function primingStep(
  context: object,
  own: object | undefined,
): 'continue' | 'stop' | undefined {
  const mark = shared().primingContexts?.get(context)
  if (mark === undefined) return undefined
  if (mark.owner !== undefined && mark.owner !== own) {
    mark.foreign = true
    return 'stop'
  }
  mark.reached = true
  return 'continue'
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
    const reason = errorText(cause, `a thrown ${typeof cause}, not an Error`)
    super(`Priming event #${event} (round ${round} of ${times}) failed: ${reason}`, { cause })
    this.event = event
    this.round = round
  }
}

/** Each handler or options object primed, with `reset()`'s count then: primed once per reset. */
const primed = new WeakMap<object, number>()

/**
 * Runs `handler` with each of `options.events` before the snapshot (`times` rounds), so
 * lazy imports, first-time code paths and compilation are done when an environment is
 * restored. Each call gets a fresh context with its own request id, a deadline and
 * `context.snapStart.priming === true`, so the handler can skip side effects. Returns
 * `handler`, so it wraps an export in place.
 */
export function primeHandler<H extends Function>(handler: H, options: PrimeOptions): H {
  return primeWith(handler, options, 'primeHandler')
}

/** `primeHandler`, naming `where` in its errors. */
export function primeWith<H extends Function>(handler: H, options: PrimeOptions, where: string): H {
  if (typeof handler !== 'function') {
    throw new TypeError(`${where}: the handler must be a function, got ${describeValue(handler)}`)
  }
  const { payloads, times, optional } = validatePrime(options, where)
  if (primed.get(handler) === shared().resets) return handler
  primed.set(handler, shared().resets)
  registerPriming({ resolve: () => handler, payloads, times, optional, owner: undefined })
  return handler
}

/**
 * Registers priming of the handler the runtime loaded; used by `snapStart({ prime })`,
 * which sits inside the chain and cannot reach it otherwise. `options` also marks its
 * priming contexts, so that only the `snapStart()` built with them lets them through: in a
 * module with several handlers, each primes its own chain and none another's.
 */
export function registerRuntimePriming(options: PrimeOptions): void {
  const { payloads, times, optional } = validatePrime(options, 'snapStart: "prime"')
  if (primed.get(options) === shared().resets) return
  primed.set(options, shared().resets)
  registerPriming({
    resolve: () => {
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
    owner: options,
  })
}

interface Priming {
  resolve: () => Function
  payloads: string[]
  times: number
  optional: boolean
  /** The `prime` options of the `snapStart()` that asked, or none for `primeHandler`. */
  owner: object | undefined
}

function registerPriming(priming: Priming): void {
  registerResource({
    name: 'prime',
    priority: PRIME_PRIORITY,
    async beforeSnapshot(phase: PhaseContext) {
      return { invocations: await primeRounds(priming.resolve(), phase, priming) }
    },
  })
}

/**
 * Sends every payload `times` rounds through `handler`; resolves to the invocation count.
 * Stops when the phase is stopped (its budget ran out), and when the handler turns out not
 * to be the chain of the `snapStart()` that asked (see `primingStep`).
 */
async function primeRounds(handler: Function, phase: PhaseContext, priming: Priming) {
  const { payloads, times, optional, owner } = priming
  // The runtime's own invocation path when a runtime hosts this phase, so that priming
  // compiles the code real invocations run; this module's copy of it otherwise.
  const primer = shared().primer ?? primeHere
  const arn = primingArn()
  let invocations = 0
  for (let round = 1; round <= times; round++) {
    for (const [index, payload] of payloads.entries()) {
      if (phase.signal.aborted) return invocations
      const mark: PrimingMark = { owner, reached: false, foreign: false }
      try {
        const number = ++invocations
        await primer(handler, {
          payload,
          requestId: `prime-${process.pid}-${number}`,
          deadlineMs: Date.now() + Math.floor(phase.remainingMs()),
          invokedFunctionArn: arn,
          prepare: (context) => preparePrimingContext(context, mark),
        })
      } catch (cause) {
        if (!mark.foreign) {
          const error = new SnapStartPrimingError(index, round, times, cause)
          if (!optional) throw error
          log('warn', error.message, { type: 'snapstart.priming', event: index, round })
        }
      }
      if (owner !== undefined && !mark.reached) {
        notOwnChain(mark.foreign)
        // A stopped event never reached the handler.
        return mark.foreign ? invocations - 1 : invocations
      }
    }
  }
  return invocations
}

/** Why a `snapStart({ prime })` sends no more events: the loaded handler is not its chain. */
function notOwnChain(foreign: boolean): void {
  const handler = process.env._HANDLER ?? 'the loaded handler'
  if (foreign) {
    log(
      'debug',
      `snapStart({ prime }) is not in the chain of ${handler}; its events are not sent`,
      {
        type: 'snapstart.priming',
      },
    )
    return
  }
  log(
    'warn',
    `snapStart({ prime }) sent an event to ${handler}, whose chain has no snapStart(); the ` +
      'other events are not sent. Prime the handler you deploy: put snapStart({ prime }) in ' +
      'its own chain, or wrap it with primeHandler(handler, { events }).',
    { type: 'snapstart.priming' },
  )
}

/** Marks `context` as priming and gives it `snapStart`, as `snapStart()` would. */
function preparePrimingContext(context: object, mark: PrimingMark): void {
  const state = shared()
  state.primingContexts ??= new WeakMap()
  state.primingContexts.set(context, mark)
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
 * context with every field of Lambda's `Context` from the environment Lambda sets, and the
 * result serialized, as the runtime does.
 */
const primeHere: Primer = async (handler, call) => {
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
  const result = await invokeHandler(
    handler as HandlerFunction,
    JSON.parse(call.payload),
    (complete) => {
      const context = createInvocationContext(info, invocation, complete)
      call.prepare(context)
      return context
    },
  )
  serializeResult(result)
  return result
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
  if (times > MAX_PRIME_TIMES) {
    throw new TypeError(
      `${where}: "times" must be at most ${MAX_PRIME_TIMES}; each round calls the handler ` +
        'once per event before the snapshot',
    )
  }
  if (typeof optional !== 'boolean') {
    throw new TypeError(`${where}: "optional" must be a boolean`)
  }
  // Each event is sent as JSON, as Lambda sends a real one; its text is fixed here. A plain
  // loop, so that a hole in the array is an event too.
  const payloads: string[] = []
  for (let index = 0; index < events.length; index++) {
    payloads.push(eventPayload(events[index], `${where}: event #${index}`))
  }
  return { payloads, times, optional }
}

const JSON_HINT =
  'events reach a handler as JSON: use plain objects, arrays, strings, finite numbers, ' +
  'booleans and null'

/** The JSON text of one event; throws a `TypeError` naming what JSON would lose or refuse. */
function eventPayload(event: unknown, label: string): string {
  const problem = jsonProblem(event, '', new Set())
  if (problem !== undefined)
    throw new TypeError(`${label} is not JSON data: ${problem}; ${JSON_HINT}`)
  let payload: string
  try {
    payload = JSON.stringify(event)
  } catch (error) {
    throw new TypeError(`${label} is not JSON data: ${errorText(error)}; ${JSON_HINT}`)
  }
  const bytes = Buffer.byteLength(payload)
  if (bytes > MAX_EVENT_BYTES) {
    throw new TypeError(
      `${label} is ${bytes} bytes as JSON, over Lambda's limit of ${MAX_EVENT_BYTES} ` +
        'bytes (6 MB) for an event',
    )
  }
  return payload
}

/**
 * What JSON would silently change in `value`, described with its path (`.items[2] is a
 * Map`), or `undefined`. A value with `toJSON` (a `Date`) says its own JSON form; a property
 * whose value is `undefined` is left out, as in any JSON.
 */
function jsonProblem(value: unknown, path: string, seen: Set<object>): string | undefined {
  const at = path === '' ? 'the event' : path
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return undefined
    case 'number':
      return Number.isFinite(value) ? undefined : `${at} is ${value}, which JSON writes as null`
    case 'object':
      break
    case 'undefined':
      return `${at} is undefined`
    default:
      return `${at} is a ${typeof value}`
  }
  if (value === null) return undefined
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return undefined
  if (seen.has(value)) return `${at} refers back to itself`
  seen.add(value)
  try {
    if (Array.isArray(value)) {
      for (let index = 0; index < value.length; index++) {
        const problem = jsonProblem(value[index], `${path}[${index}]`, seen)
        if (problem !== undefined) return problem
      }
      return undefined
    }
    const prototype = Object.getPrototypeOf(value)
    if (prototype !== Object.prototype && prototype !== null) {
      return `${at} is ${describeInstance(value)}, which JSON writes as a plain object`
    }
    for (const [key, item] of Object.entries(value)) {
      if (item === undefined) continue
      const problem = jsonProblem(item, `${path}.${key}`, seen)
      if (problem !== undefined) return problem
    }
    return undefined
  } finally {
    seen.delete(value)
  }
}
