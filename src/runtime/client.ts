import type { IncomingHttpHeaders } from 'node:http'
import { isIPv4, isIPv6 } from 'node:net'
import { ERROR_TYPE_HEADER, RUNTIME_API_BASE } from '../runtime-api.js'
import { RuntimeApiError } from './errors.js'
import { type Connect, connectTcp, HttpConnection } from './http-connection.js'
import type { HttpReply } from './http-reply-reader.js'
import { type ChannelReport, REPORT_PATH } from './report-channel.js'

const NEXT_PATH = `${RUNTIME_API_BASE}/invocation/next`
const RESTORE_NEXT_PATH = `${RUNTIME_API_BASE}/restore/next`
const INIT_ERROR_PATH = `${RUNTIME_API_BASE}/init/error`
const RESTORE_ERROR_PATH = `${RUNTIME_API_BASE}/restore/error`

/** An invocation as `GET /runtime/invocation/next` delivers it. */
export interface NextInvocation {
  requestId: string
  /** The raw event body. */
  body: string
  /** The reply's headers, names in lower case. */
  headers: IncomingHttpHeaders
}

/** Lambda's error body. */
export interface ErrorBody {
  errorType: string
  errorMessage: string
  trace?: string[]
  stackTrace?: string[]
}

/** Where the Runtime API listens, as `parseRuntimeApi` reads `AWS_LAMBDA_RUNTIME_API`. */
export interface RuntimeApiAddress {
  /** `host:port` as given, for the `Host` header. */
  host: string
  /** The name or IP address to connect to, IPv6 without its brackets. */
  hostname: string
  /** The TCP port, 1 to 65535. */
  port: number
}

/** The form `AWS_LAMBDA_RUNTIME_API` must have, as error messages state it. */
export const RUNTIME_API_FORM =
  'host:port without a scheme or path, such as 127.0.0.1:9001 or localhost:9001 ' +
  '(host: a hostname, an IPv4 address or an [IPv6] address; port: 1 to 65535)'

const HOST_AND_PORT = /^(\[[^\]]*\]|[^:]*):(\d{1,5})$/
const LABEL = '[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?'
const HOSTNAME = new RegExp(`^(?=.{1,253}$)${LABEL}(?:\\.${LABEL})*$`)
const DOTTED_NUMBERS = /^[\d.]+$/

/**
 * Reads `AWS_LAMBDA_RUNTIME_API`: `host:port`, the host a hostname, an IPv4 address or an
 * IPv6 address in brackets, the port 1 to 65535. Throws a `RuntimeApiError` naming the
 * variable and the expected form for anything else (a scheme, a path, a missing or
 * out-of-range port), without connecting anywhere.
 */
export function parseRuntimeApi(endpoint: string): RuntimeApiAddress {
  const match = HOST_AND_PORT.exec(endpoint)
  const host = match?.[1] ?? ''
  const port = Number(match?.[2])
  const hostname = host.startsWith('[') ? host.slice(1, -1) : host
  const validHost = host.startsWith('[')
    ? isIPv6(hostname)
    : DOTTED_NUMBERS.test(host)
      ? isIPv4(host)
      : HOSTNAME.test(host)
  if (match === null || !validHost || !(port >= 1 && port <= 65_535)) {
    throw new RuntimeApiError(
      `AWS_LAMBDA_RUNTIME_API is ${JSON.stringify(endpoint)}: expected ${RUNTIME_API_FORM}`,
    )
  }
  return { host: endpoint, hostname, port }
}

const JSON_TYPE = 'Content-Type: application/json\r\n'
const HEADER_VALUE = /^[\t\x20-\x7e]*$/

/**
 * A client for Lambda's Runtime API over one keep-alive connection (`HttpConnection`: one
 * socket, requests one at a time, Nagle's algorithm off). `resetConnection()` drops it, for
 * use right after a restore, when a connection opened before the snapshot is dead.
 */
export class RuntimeApiClient {
  private readonly connection: HttpConnection
  private readonly host: string
  private readonly nextRequest: string

  /**
   * `endpoint` is `AWS_LAMBDA_RUNTIME_API`: `host:port` (see `parseRuntimeApi`). `connect`
   * opens the connection's socket, default a TCP connection to `endpoint`.
   */
  constructor(endpoint: string, connect: Connect = connectTcp) {
    const { host, hostname, port } = parseRuntimeApi(endpoint)
    this.host = host
    this.connection = new HttpConnection(hostname, port, connect)
    // The request sent most often, built once.
    this.nextRequest = this.head('GET', NEXT_PATH, '')
  }

  /** Destroys the connection: the next call opens a new socket. */
  resetConnection(): void {
    this.connection.reset()
  }

  /** Stops using the connection; for shutdown. */
  close(): void {
    this.connection.reset()
  }

  /** `GET /runtime/invocation/next`: waits for the next event. */
  async nextInvocation(): Promise<NextInvocation> {
    const reply = await this.exchange('GET', NEXT_PATH, this.nextRequest)
    if (reply.status !== 200) throw unexpected('GET', NEXT_PATH, reply)
    const requestId = reply.headers['lambda-runtime-aws-request-id']
    if (typeof requestId !== 'string' || requestId === '') {
      throw new RuntimeApiError(
        `GET ${NEXT_PATH} answered without a Lambda-Runtime-Aws-Request-Id header`,
        reply.status,
      )
    }
    return { requestId, body: reply.body, headers: reply.headers as IncomingHttpHeaders }
  }

  /** `GET /runtime/restore/next`: blocks while the snapshot is taken, returns once restored. */
  async restoreNext(): Promise<void> {
    const request = this.head('GET', RESTORE_NEXT_PATH, '')
    const reply = await this.exchange('GET', RESTORE_NEXT_PATH, request)
    if (reply.status !== 200) throw unexpected('GET', RESTORE_NEXT_PATH, reply)
  }

  /** `POST /runtime/invocation/{id}/response` with a JSON body already serialized. */
  async postResponse(requestId: string, body: string): Promise<void> {
    const path = `${RUNTIME_API_BASE}/invocation/${encodeURIComponent(requestId)}/response`
    const reply = await this.post(path, JSON_TYPE, body)
    if (reply.status !== 202) throw unexpected('POST', path, reply)
  }

  /** `POST /runtime/invocation/{id}/error`. */
  postInvocationError(requestId: string, error: ErrorBody, errorType: string): Promise<void> {
    return this.postError(
      `${RUNTIME_API_BASE}/invocation/${encodeURIComponent(requestId)}/error`,
      error,
      errorType,
    )
  }

  /** `POST /runtime/init/error`. */
  postInitError(error: ErrorBody, errorType: string): Promise<void> {
    return this.postError(INIT_ERROR_PATH, error, errorType)
  }

  /** `POST /runtime/restore/error`. */
  postRestoreError(error: ErrorBody, errorType: string): Promise<void> {
    return this.postError(RESTORE_ERROR_PATH, error, errorType)
  }

  /** Sends a report on the emulator's report channel (see `REPORT_PATH`). */
  async postReport(report: ChannelReport): Promise<void> {
    const reply = await this.post(REPORT_PATH, JSON_TYPE, JSON.stringify(report))
    if (reply.status !== 202) throw unexpected('POST', REPORT_PATH, reply)
  }

  private async postError(path: string, error: ErrorBody, errorType: string): Promise<void> {
    // A type that cannot travel in a header is one Lambda would read as Runtime.Unknown.
    const type = HEADER_VALUE.test(errorType) ? errorType : 'Runtime.Unknown'
    const headers = `${JSON_TYPE}${ERROR_TYPE_HEADER}: ${type}\r\n`
    const reply = await this.post(path, headers, JSON.stringify(error))
    if (reply.status !== 202) throw unexpected('POST', path, reply)
  }

  private post(path: string, headers: string, body: string): Promise<HttpReply> {
    const length = `Content-Length: ${Buffer.byteLength(body)}\r\n`
    return this.exchange('POST', path, this.head('POST', path, headers + length) + body)
  }

  /** A request head; `headers` are complete header lines, each ending in CRLF. */
  private head(method: string, path: string, headers: string): string {
    return `${method} ${path} HTTP/1.1\r\nHost: ${this.host}\r\n${headers}\r\n`
  }

  private async exchange(method: string, path: string, request: string): Promise<HttpReply> {
    try {
      return await this.connection.send(request)
    } catch (cause) {
      const message = cause instanceof Error ? cause.message : String(cause)
      throw new RuntimeApiError(`${method} ${path} failed: ${message}`, undefined, { cause })
    }
  }
}

function unexpected(method: string, path: string, reply: HttpReply): RuntimeApiError {
  const detail = reply.body.length > 200 ? `${reply.body.slice(0, 200)}...` : reply.body
  return new RuntimeApiError(
    `${method} ${path} answered ${reply.status}${detail === '' ? '' : `: ${detail}`}`,
    reply.status,
  )
}
