// Runs inside the snapshot bundle, in three kinds of process: the build (`--build-snapshot`),
// a restored environment (`--snapshot-blob`), and the cold-start comparison (plain node).
// It may use built-in modules only: nothing else can be required while a snapshot builds.
import { readFileSync, writeSync } from 'node:fs'
import v8 from 'node:v8'
import type { Context } from 'aws-lambda'
import { errorSummary } from '../describe.js'
import { SnapStartPhaseError } from '../errors.js'
import { loadHostHandler, runHostAfterRestore } from '../host.js'
import { markReady, runBeforeSnapshot } from '../lifecycle.js'
import {
  type Completion,
  createInvocationContext,
  type FunctionInfo,
  type InvocationInfo,
  invokeHandler,
} from '../runtime/context.js'
import { findExport } from '../runtime/export-path.js'
import type { HandlerFunction } from '../runtime/handler.js'
import {
  type ChannelMessage,
  DEFAULT_FUNCTION_TIMEOUT_MS,
  EXIT,
  type FaultKind,
  NO_EVENTS,
  REQUIRE_GUARD_KEY,
} from './protocol.js'

/**
 * Where `<events> <channelFd>` start in `process.argv`: after the script when built or run
 * cold (`node entry.cjs <events> <fd>`), right after node in a restored process
 * (`node --snapshot-blob <blob> <events> <fd>`).
 */
let firstArg = 2

/** Built-in modules whose native state a startup snapshot cannot hold. */
const HTTP_MODULES = new Set(['http', 'https', 'http2', 'tls', '_http_agent', '_http_client'])

/** Marks the errors the require guard throws, so a rethrown copy is still recognised. */
class HttpAtBuildError extends Error {
  override name = 'HttpAtBuildError'
  constructor(readonly module: string) {
    super(`"${module}" cannot be loaded while a startup snapshot is being built`)
  }
}

/**
 * Starts the snapshot entry: `load` requires the handler module, `exportPath` names the
 * handler (`handler`, or nested as `api.get`). While a snapshot builds it runs init and the
 * before-snapshot hooks and sets the function the restored process starts with; in a plain
 * node process it runs init and the events (the cold-start comparison).
 */
export function startSnapshotEntry(load: () => unknown, exportPath: string): void {
  if (v8.startupSnapshot.isBuildingSnapshot()) {
    void build(load, exportPath)
    return
  }
  void coldStart(load, exportPath)
}

async function build(load: () => unknown, exportPath: string): Promise<void> {
  // stdio streams are created now, so their pipes belong to the baseline, not to init.
  void process.stdout
  void process.stderr
  const baseline = process.getActiveResourcesInfo()
  const attempts: string[] = []
  const restoreFetch = guardHttp(attempts)

  const handler = await init(load, exportPath, attempts)

  try {
    const report = await runBeforeSnapshot()
    send({ type: 'phase', report, atMs: performance.now() })
  } catch (error) {
    if (error instanceof SnapStartPhaseError) {
      send({ type: 'phase', report: error.report, atMs: performance.now() })
    }
    if (attempts.length > 0) {
      const cause = error instanceof SnapStartPhaseError ? error.cause : error
      fault('http', cause, { module: attempts[0] })
    }
    fault('beforeSnapshot', error)
  }
  restoreFetch()

  const leftover = await liveResources(baseline)
  if (leftover.length > 0) {
    fault('handles', new Error('handles alive after the before-snapshot hooks'), {
      resources: leftover,
    })
  }

  v8.startupSnapshot.setDeserializeMainFunction(() => {
    firstArg = 1
    void restore(handler)
  })
  send({ type: 'ready', atMs: performance.now() })
}

async function coldStart(load: () => unknown, exportPath: string): Promise<void> {
  const handler = await init(load, exportPath, [])
  markReady()
  await serve(handler)
}

async function restore(handler: HandlerFunction): Promise<void> {
  try {
    const report = await runHostAfterRestore(process.env)
    send({ type: 'phase', report, atMs: performance.now() })
  } catch (error) {
    if (error instanceof SnapStartPhaseError) {
      send({ type: 'phase', report: error.report, atMs: performance.now() })
    }
    fault('afterRestore', error)
  }
  await serve(handler)
}

/**
 * Loads the handler module and finds the handler, as the runtime does (`loadHostHandler`:
 * the `SNAPSTART_*` variables first, the environment secrets after); reports `init` or
 * stops the process.
 */
async function init(load: () => unknown, exportPath: string, attempts: string[]) {
  const start = performance.now()
  const loadExport = (): HandlerFunction => {
    let namespace: unknown
    try {
      namespace = load()
    } catch (error) {
      if (attempts.length > 0) fault('http', error, { module: attempts[0] })
      fault('init', error)
    }
    const handler = findExport(namespace, exportPath)
    if (typeof handler !== 'function') {
      const found = handler === undefined ? 'not exported' : `a ${typeof handler}, not a function`
      fault('export', new TypeError(`The handler export "${exportPath}" is ${found}`))
    }
    return handler as HandlerFunction
  }
  let handler: HandlerFunction
  try {
    handler = await loadHostHandler(process.env, loadExport)
  } catch (error) {
    fault('init', error)
  }
  send({ type: 'init', durationMs: performance.now() - start, atMs: performance.now() })
  return handler
}

/** Runs each event through the handler, reports each outcome, then exits. */
async function serve(handler: HandlerFunction): Promise<void> {
  let events: unknown[]
  try {
    events = readEvents(process.argv[firstArg])
  } catch (error) {
    fault('events', error)
  }
  for (const [index, event] of events.entries()) {
    const start = performance.now()
    try {
      const response = await invokeHandler(handler, event, (complete) =>
        lambdaContext(index, complete),
      )
      send({
        type: 'response',
        index,
        status: 'ok',
        response: response === undefined ? null : response,
        durationMs: performance.now() - start,
        atMs: performance.now(),
      })
    } catch (error) {
      const { name, message } = errorSummary(error)
      send({
        type: 'response',
        index,
        status: 'error',
        error: { errorType: name, errorMessage: message },
        durationMs: performance.now() - start,
        atMs: performance.now(),
      })
    }
  }
  send({ type: 'done', atMs: performance.now() })
  // Timers re-armed by after-restore hooks would keep the process alive; Lambda would freeze
  // it here, the snapshot mode ends it.
  process.exit(0)
}

function readEvents(path: string | undefined): unknown[] {
  if (path === undefined || path === NO_EVENTS) return []
  const events = JSON.parse(readFileSync(path, 'utf8')) as unknown
  if (!Array.isArray(events)) throw new TypeError(`${path} must hold a JSON array of events`)
  return events
}

/**
 * A Lambda context; its request id is a counter, so invoking draws no random numbers. Its
 * deadline is the function timeout given to the process from now.
 */
function lambdaContext(index: number, complete: Completion): Context {
  const functionName = process.env.AWS_LAMBDA_FUNCTION_NAME ?? 'snapshot'
  const info: FunctionInfo = {
    functionName,
    functionVersion: '$LATEST',
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE ?? '128',
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: `snapshot/${process.pid}`,
  }
  const invocation: InvocationInfo = {
    requestId: `snapshot-${process.pid}-${index + 1}`,
    deadlineMs: Date.now() + functionTimeoutMs(process.argv[firstArg + 2]),
    invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${functionName}`,
  }
  return createInvocationContext(info, invocation, complete)
}

/** The `<functionTimeoutMs>` argument, or `DEFAULT_FUNCTION_TIMEOUT_MS` when it is not one. */
function functionTimeoutMs(value: string | undefined): number {
  const ms = Number(value)
  return Number.isSafeInteger(ms) && ms >= 1 ? ms : DEFAULT_FUNCTION_TIMEOUT_MS
}

/**
 * While the snapshot builds, refuses the HTTP modules (through the bundle's `require`) and
 * `fetch`, recording each attempt. Returns the function that puts `fetch` back.
 */
function guardHttp(attempts: string[]): () => void {
  const holder = globalThis as Record<string, unknown>
  holder[REQUIRE_GUARD_KEY] = (id: string) => {
    if (!HTTP_MODULES.has(id.replace(/^node:/, ''))) return
    attempts.push(id)
    throw withStack(() => new HttpAtBuildError(id))
  }
  const fetch = Object.getOwnPropertyDescriptor(globalThis, 'fetch')
  Object.defineProperty(globalThis, 'fetch', {
    configurable: true,
    writable: true,
    value: function fetchWhileBuilding() {
      attempts.push('fetch')
      throw withStack(() => new HttpAtBuildError('fetch'))
    },
  })
  return () => {
    delete holder[REQUIRE_GUARD_KEY]
    if (fetch === undefined) delete holder.fetch
    else Object.defineProperty(globalThis, 'fetch', fetch)
  }
}

/**
 * Creates an error with a stack trace: Node 20 turns stack traces off while a snapshot
 * builds, and the trace is what tells where the module was loaded from.
 */
function withStack(create: () => Error): Error {
  const limit = Object.getOwnPropertyDescriptor(Error, 'stackTraceLimit')
  Error.stackTraceLimit = 20
  try {
    return create()
  } finally {
    if (limit === undefined) Reflect.deleteProperty(Error, 'stackTraceLimit')
    else Object.defineProperty(Error, 'stackTraceLimit', limit)
  }
}

/**
 * The handles alive beyond `baseline`. Handles closed by the hooks finish closing within a
 * loop turn or two, so those turns are given before judging.
 */
async function liveResources(baseline: string[]): Promise<string[]> {
  let leftover = difference(process.getActiveResourcesInfo(), baseline)
  for (let turn = 0; turn < 3 && leftover.length > 0; turn++) {
    await new Promise((resolve) => setImmediate(resolve))
    leftover = difference(process.getActiveResourcesInfo(), baseline)
  }
  return leftover
}

function difference(current: string[], baseline: string[]): string[] {
  const left = [...baseline]
  return current.filter((kind) => {
    const at = left.indexOf(kind)
    if (at === -1) return true
    left.splice(at, 1)
    return false
  })
}

/** Reports a fault and ends the process with the matching exit code. */
function fault(
  kind: FaultKind,
  error: unknown,
  extra: { module?: string; resources?: string[] } = {},
): never {
  const summary = errorSummary(error)
  const stack = error instanceof Error ? error.stack : undefined
  send({ type: 'fault', kind, error: { ...summary, stack }, ...extra, atMs: performance.now() })
  const code =
    kind === 'beforeSnapshot'
      ? EXIT.beforeSnapshot
      : kind === 'afterRestore'
        ? EXIT.afterRestore
        : EXIT.fault
  process.exit(code)
}

function send(message: ChannelMessage): void {
  const fd = Number(process.argv[firstArg + 1] ?? 1)
  const line = Buffer.from(`${JSON.stringify(message)}\n`)
  let offset = 0
  while (offset < line.length) {
    try {
      offset += writeSync(Number.isInteger(fd) ? fd : 1, line, offset)
    } catch (error) {
      if ((error as { code?: string }).code !== 'EAGAIN') return
    }
  }
}
