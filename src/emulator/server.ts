import http from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { performance } from 'node:perf_hooks'
import { type ChannelReport, REPORT_PATH } from '../runtime/report-channel.js'
import { ERROR_TYPE_HEADER, RUNTIME_API_BASE, VALID_ERROR_TYPE } from '../runtime-api.js'

/** Lambda's limit for a buffered response body, in bytes (6 MB). */
export const MAX_RESPONSE_BYTES = 6_291_456

const INVOCATION_PREFIX = `${RUNTIME_API_BASE}/invocation/`
/** The error-type header's key in `request.headers`, which Node lowercases. */
const ERROR_TYPE_KEY = ERROR_TYPE_HEADER.toLowerCase()

/**
 * Where the sandbox stands, as the Runtime API sees it.
 * - `init`: the runtime is loading the handler (and running before-snapshot hooks).
 * - `snapshot`: the runtime is held at the snapshot point.
 * - `restoring`: the snapshot point was released; after-restore hooks are running.
 * - `ready`: invocations are being served.
 * - `failed`: the runtime reported an init or restore error, or exited.
 */
export type SandboxState = 'init' | 'snapshot' | 'restoring' | 'ready' | 'failed'

/** One request the runtime made, for tests and diagnostics. */
export interface ApiCall {
  method: string
  path: string
  /** The status the server answered; 0 while the request is held. */
  status: number
  /** A number per TCP connection, in the order connections were accepted. */
  socket: number
  /** Milliseconds from the server's start. */
  atMs: number
}

/** A lifecycle error a runtime reported on `init/error` or `restore/error`. */
export interface ReportedError {
  /** The validated error-type header; `Runtime.Unknown` when missing or malformed. */
  errorType: string
  /** The body's `errorType` (the error's own class name), when the body had one. */
  bodyErrorType: string | undefined
  errorMessage: string
  stackTrace: string[] | undefined
}

/** How an invocation ended. */
export type InvocationOutcome =
  | { status: 'ok'; body: string }
  | {
      status: 'error'
      errorType: string
      errorMessage: string
      trace?: string[]
      /** The validated `Lambda-Runtime-Function-Error-Type` header, when the runtime sent one. */
      functionErrorType?: string
    }

/** An event waiting for, or being handled by, the runtime. */
export interface PendingInvocation {
  readonly requestId: string
  readonly payload: string
  readonly timeoutMs: number
  readonly invokedFunctionArn: string
  readonly traceId: string
  readonly clientContext?: string
  readonly identity?: string
  /** Called when the runtime picks the event up. */
  dispatched(): void
  /** Called once with the outcome. */
  settle(outcome: InvocationOutcome): void
}

/** What the server tells its owner. Every callback is optional. */
export interface ServerListener {
  report?(report: ChannelReport): void
  initError?(error: ReportedError): void
  restoreError?(error: ReportedError): void
  /** The runtime is held at the snapshot point, by `restore/next` or a first `next`. */
  snapshotPoint?(via: 'restore/next' | 'invocation/next'): void
  /** On-demand: the first `invocation/next` ends init. */
  initComplete?(): void
  /** The first `invocation/next` after the snapshot point was released. */
  restoreComplete?(): void
}

/**
 * Lambda's Runtime API for one runtime process, on 127.0.0.1 with a system-chosen port.
 * It answers `403` to a call made in the wrong state, `413` to a response body over
 * `MAX_RESPONSE_BYTES`, `404` to an unknown path, and maps an error-type header that does
 * not match `(Runtime|Function).Name` to `Runtime.Unknown`. Besides Lambda's endpoints it
 * takes the runtime's reports on `REPORT_PATH`.
 */
export class RuntimeApiServer {
  /** Every request, in arrival order. */
  readonly calls: ApiCall[] = []
  private readonly server: http.Server
  private readonly sockets = new WeakMap<Socket, number>()
  private socketCount = 0
  private readonly startedAt = performance.now()
  private stateValue: SandboxState = 'init'
  private restoreNextSeen = false
  private heldRestore: http.ServerResponse | undefined
  private waitingNext: http.ServerResponse | undefined
  private queued: PendingInvocation | undefined
  private current: PendingInvocation | undefined
  private snapshotVia: 'restore/next' | 'invocation/next' | undefined

  constructor(
    private readonly snapStart: boolean,
    private readonly listener: ServerListener,
  ) {
    this.server = http.createServer((request, response) => this.route(request, response))
    this.server.keepAliveTimeout = 0
    this.server.requestTimeout = 0
    this.server.on('connection', (socket) => {
      this.sockets.set(socket, ++this.socketCount)
    })
  }

  /** The sandbox state. */
  get state(): SandboxState {
    return this.stateValue
  }

  /** Starts listening; resolves to `host:port` for `AWS_LAMBDA_RUNTIME_API`. */
  listen(): Promise<string> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject)
      this.server.listen(0, '127.0.0.1', () => {
        const address = this.server.address() as AddressInfo
        resolve(`127.0.0.1:${address.port}`)
      })
    })
  }

  /** Releases the snapshot point: answers the held `restore/next`. */
  releaseSnapshot(): void {
    if (this.stateValue !== 'snapshot') return
    if (this.snapshotVia === 'invocation/next') {
      this.stateValue = 'ready'
      this.listener.restoreComplete?.()
      this.dispatch()
      return
    }
    this.stateValue = 'restoring'
    const held = this.heldRestore
    this.heldRestore = undefined
    held?.writeHead(200, { 'Content-Length': 0 }).end()
  }

  /** Queues an event; the runtime's next `invocation/next` receives it. */
  enqueue(invocation: PendingInvocation): void {
    this.queued = invocation
    this.dispatch()
  }

  /**
   * Ends the invocation in flight (or queued) with `outcome`, without waiting for the
   * runtime; later posts for its id get `403`.
   */
  abandon(requestId: string, outcome: InvocationOutcome): void {
    if (this.queued?.requestId === requestId) {
      const queued = this.queued
      this.queued = undefined
      queued.settle(outcome)
    }
    if (this.current?.requestId === requestId) this.finish(outcome)
  }

  /** The runtime process is gone: nothing more will be served. */
  markFailed(): void {
    this.stateValue = 'failed'
  }

  /** Closes the server and every connection, held requests included. */
  close(): Promise<void> {
    this.stateValue = 'failed'
    return new Promise((resolve) => {
      this.server.close(() => resolve())
      this.server.closeAllConnections()
    })
  }

  private route(request: http.IncomingMessage, response: http.ServerResponse): void {
    const url = request.url ?? ''
    const method = request.method ?? ''
    const call: ApiCall = {
      method,
      path: url,
      status: 0,
      socket: this.sockets.get(request.socket) ?? 0,
      atMs: performance.now() - this.startedAt,
    }
    this.calls.push(call)
    response.once('finish', () => {
      call.status = response.statusCode
    })

    if (url === `${RUNTIME_API_BASE}/invocation/next`) {
      this.get(method, request, response, 'next')
      return
    }
    if (url === `${RUNTIME_API_BASE}/restore/next`) {
      this.get(method, request, response, 'restore')
      return
    }
    if (url === `${RUNTIME_API_BASE}/init/error`) {
      this.post(method, request, response, (body) => this.onInitError(request, body))
      return
    }
    if (url === `${RUNTIME_API_BASE}/restore/error`) {
      this.post(method, request, response, (body) => this.onRestoreError(request, body))
      return
    }
    if (url === REPORT_PATH) {
      this.post(method, request, response, (body) => this.onReport(body))
      return
    }
    if (url.startsWith(INVOCATION_PREFIX)) {
      const rest = url.slice(INVOCATION_PREFIX.length)
      const slash = rest.indexOf('/')
      const requestId = decodePathSegment(rest.slice(0, slash))
      const action = rest.slice(slash + 1)
      const known = action === 'response' || action === 'error'
      if (slash > 0 && requestId !== undefined && known) {
        this.onInvocationPost(method, request, response, requestId, action)
        return
      }
    }
    request.resume()
    reply(response, 404, 'NotFound', `No Runtime API endpoint at ${url}`)
  }

  private get(
    method: string,
    request: http.IncomingMessage,
    response: http.ServerResponse,
    which: 'next' | 'restore',
  ): void {
    request.resume()
    if (method !== 'GET') {
      reply(response, 405, 'MethodNotAllowed', `Use GET for ${which}`)
      return
    }
    if (which === 'restore') {
      this.onRestoreNext(response)
      return
    }
    this.onNext(response)
  }

  private onRestoreNext(response: http.ServerResponse): void {
    if (!this.snapStart) {
      forbidden(response, 'restore/next is only allowed in snap-start mode')
      return
    }
    if (this.restoreNextSeen || this.stateValue !== 'init') {
      forbidden(response, `restore/next is not allowed in state ${this.stateValue}`)
      return
    }
    this.restoreNextSeen = true
    this.stateValue = 'snapshot'
    this.snapshotVia = 'restore/next'
    this.heldRestore = response
    this.listener.snapshotPoint?.('restore/next')
  }

  private onNext(response: http.ServerResponse): void {
    const state = this.stateValue
    if (state === 'snapshot' || state === 'failed') {
      forbidden(response, `invocation/next is not allowed in state ${state}`)
      return
    }
    if (this.waitingNext !== undefined) {
      forbidden(response, 'Another invocation/next is already waiting')
      return
    }
    if (this.current !== undefined) {
      forbidden(
        response,
        `Invocation ${this.current.requestId} is still in flight: post its response first`,
      )
      return
    }
    this.waitingNext = response
    if (state === 'init') {
      if (this.snapStart) {
        this.stateValue = 'snapshot'
        this.snapshotVia = 'invocation/next'
        this.listener.snapshotPoint?.('invocation/next')
        return
      }
      this.stateValue = 'ready'
      this.listener.initComplete?.()
    } else if (state === 'restoring') {
      this.stateValue = 'ready'
      this.listener.restoreComplete?.()
    }
    this.dispatch()
  }

  private dispatch(): void {
    if (this.stateValue !== 'ready') return
    const response = this.waitingNext
    const invocation = this.queued
    if (response === undefined || invocation === undefined) return
    this.waitingNext = undefined
    this.queued = undefined
    this.current = invocation
    const headers: http.OutgoingHttpHeaders = {
      'Content-Type': 'application/json',
      'Content-Length': Buffer.byteLength(invocation.payload),
      'Lambda-Runtime-Aws-Request-Id': invocation.requestId,
      'Lambda-Runtime-Deadline-Ms': String(Date.now() + invocation.timeoutMs),
      'Lambda-Runtime-Invoked-Function-Arn': invocation.invokedFunctionArn,
      'Lambda-Runtime-Trace-Id': invocation.traceId,
    }
    if (invocation.clientContext !== undefined) {
      headers['Lambda-Runtime-Client-Context'] = invocation.clientContext
    }
    if (invocation.identity !== undefined) {
      headers['Lambda-Runtime-Cognito-Identity'] = invocation.identity
    }
    invocation.dispatched()
    response.writeHead(200, headers).end(invocation.payload)
  }

  private onInvocationPost(
    method: string,
    request: http.IncomingMessage,
    response: http.ServerResponse,
    requestId: string,
    action: 'response' | 'error',
  ): void {
    if (method !== 'POST') {
      request.resume()
      reply(response, 405, 'MethodNotAllowed', `Use POST for ${action}`)
      return
    }
    const current = this.current
    if (current === undefined || current.requestId !== requestId) {
      request.resume()
      forbidden(response, `No invocation ${requestId} is in flight`)
      return
    }
    readBody(request, (body, size) => {
      if (this.current !== current) {
        forbidden(response, `Invocation ${requestId} has already ended`)
        return
      }
      if (body === undefined) {
        reply(
          response,
          413,
          'RequestEntityTooLarge',
          `Payload of ${size} bytes exceeds ${MAX_RESPONSE_BYTES} bytes`,
        )
        this.finish({
          status: 'error',
          errorType: 'Function.ResponseSizeTooLarge',
          errorMessage:
            `Response payload size (${size} bytes) exceeded maximum allowed payload size ` +
            `(${MAX_RESPONSE_BYTES} bytes).`,
        })
        return
      }
      response.writeHead(202, { 'Content-Type': 'application/json' }).end('{"status":"OK"}')
      if (action === 'response') {
        this.finish({ status: 'ok', body })
        return
      }
      const parsed = parseError(body)
      this.finish({
        status: 'error',
        errorType: parsed.bodyErrorType ?? parsed.errorType,
        errorMessage: parsed.errorMessage,
        ...(parsed.trace ? { trace: parsed.trace } : {}),
        functionErrorType: validErrorType(request.headers[ERROR_TYPE_KEY]),
      })
    })
  }

  private finish(outcome: InvocationOutcome): void {
    const current = this.current
    if (current === undefined) return
    this.current = undefined
    current.settle(outcome)
    this.dispatch()
  }

  private post(
    method: string,
    request: http.IncomingMessage,
    response: http.ServerResponse,
    accept: (body: string) => string | undefined,
  ): void {
    if (method !== 'POST') {
      request.resume()
      reply(response, 405, 'MethodNotAllowed', 'Use POST')
      return
    }
    readBody(request, (body, size) => {
      if (body === undefined) {
        reply(response, 413, 'RequestEntityTooLarge', `Body of ${size} bytes is too large`)
        return
      }
      const refusal = accept(body)
      if (refusal !== undefined) {
        forbidden(response, refusal)
        return
      }
      response.writeHead(202, { 'Content-Type': 'application/json' }).end('{"status":"OK"}')
    })
  }

  private onInitError(request: http.IncomingMessage, body: string): string | undefined {
    if (this.stateValue !== 'init') return `init/error is not allowed in state ${this.stateValue}`
    this.stateValue = 'failed'
    const error = reportedError(request, body)
    queueMicrotask(() => this.listener.initError?.(error))
    return undefined
  }

  private onRestoreError(request: http.IncomingMessage, body: string): string | undefined {
    if (this.stateValue !== 'restoring') {
      return `restore/error is not allowed in state ${this.stateValue}`
    }
    this.stateValue = 'failed'
    const error = reportedError(request, body)
    queueMicrotask(() => this.listener.restoreError?.(error))
    return undefined
  }

  private onReport(body: string): string | undefined {
    let report: ChannelReport
    try {
      report = JSON.parse(body) as ChannelReport
    } catch {
      return 'The report is not JSON'
    }
    this.listener.report?.(report)
    return undefined
  }
}

/** Reads a body up to `MAX_RESPONSE_BYTES`; `undefined` (with the full size) when over. */
function readBody(
  request: http.IncomingMessage,
  done: (body: string | undefined, size: number) => void,
): void {
  const chunks: Buffer[] = []
  let size = 0
  request.on('data', (chunk: Buffer) => {
    size += chunk.length
    if (size <= MAX_RESPONSE_BYTES) chunks.push(chunk)
  })
  request.on('end', () => {
    if (size > MAX_RESPONSE_BYTES) return done(undefined, size)
    done(chunks.length === 1 ? chunks[0]!.toString() : Buffer.concat(chunks).toString(), size)
  })
}

function reply(
  response: http.ServerResponse,
  status: number,
  errorType: string,
  errorMessage: string,
): void {
  response
    .writeHead(status, { 'Content-Type': 'application/json' })
    .end(JSON.stringify({ errorType, errorMessage }))
}

/**
 * A percent-decoded path segment, or `undefined` when its escapes are malformed (`%E0%A4%A`):
 * `decodeURIComponent` throws a `URIError` there, and a throw in the request listener would
 * be an uncaught exception in the process hosting the emulator.
 */
function decodePathSegment(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment)
  } catch {
    return undefined
  }
}

function forbidden(response: http.ServerResponse, message: string): void {
  reply(response, 403, 'InvalidStateTransition', message)
}

/** The error-type header as Lambda reads it: anything malformed is `Runtime.Unknown`. */
function validErrorType(header: string | string[] | undefined): string {
  return typeof header === 'string' && VALID_ERROR_TYPE.test(header) ? header : 'Runtime.Unknown'
}

function reportedError(request: http.IncomingMessage, body: string): ReportedError {
  const parsed = parseError(body)
  return {
    errorType: validErrorType(request.headers[ERROR_TYPE_KEY]),
    bodyErrorType: parsed.bodyErrorType,
    errorMessage: parsed.errorMessage,
    stackTrace: parsed.trace,
  }
}

function parseError(body: string): {
  errorType: string
  bodyErrorType: string | undefined
  errorMessage: string
  trace: string[] | undefined
} {
  let value: Record<string, unknown> = {}
  try {
    const parsed = JSON.parse(body) as unknown
    if (parsed !== null && typeof parsed === 'object') value = parsed as Record<string, unknown>
  } catch {
    return { errorType: 'Runtime.Unknown', bodyErrorType: undefined, errorMessage: body, trace: [] }
  }
  const trace = Array.isArray(value.trace)
    ? value.trace
    : Array.isArray(value.stackTrace)
      ? value.stackTrace
      : undefined
  return {
    errorType: 'Runtime.Unknown',
    bodyErrorType: typeof value.errorType === 'string' ? value.errorType : undefined,
    errorMessage: typeof value.errorMessage === 'string' ? value.errorMessage : body,
    trace: trace?.map(String),
  }
}
