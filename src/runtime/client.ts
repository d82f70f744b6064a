import http from 'node:http'
import { RuntimeApiError } from './errors.js'
import { type ChannelReport, REPORT_PATH } from './report-channel.js'

const BASE = '/2018-06-01/runtime'
const NEXT_PATH = `${BASE}/invocation/next`
const RESTORE_NEXT_PATH = `${BASE}/restore/next`
const INIT_ERROR_PATH = `${BASE}/init/error`
const RESTORE_ERROR_PATH = `${BASE}/restore/error`

/** Header carrying the `Runtime.*` / `Function.*` error type on error posts. */
export const ERROR_TYPE_HEADER = 'Lambda-Runtime-Function-Error-Type'

/** An invocation as `GET /runtime/invocation/next` delivers it. */
export interface NextInvocation {
  requestId: string
  /** The raw event body. */
  body: string
  headers: http.IncomingHttpHeaders
}

/** Lambda's error body. */
export interface ErrorBody {
  errorType: string
  errorMessage: string
  trace?: string[]
  stackTrace?: string[]
}

interface Reply {
  status: number
  headers: http.IncomingHttpHeaders
  body: string
}

const JSON_HEADERS = { 'Content-Type': 'application/json' }

/**
 * A client for Lambda's Runtime API over one keep-alive connection (an `http.Agent` with
 * `maxSockets: 1`). `resetConnection()` drops it, for use right after a restore, when a
 * connection opened before the snapshot is dead.
 */
export class RuntimeApiClient {
  private agent: http.Agent
  private readonly hostname: string
  private readonly port: number

  /** `endpoint` is `AWS_LAMBDA_RUNTIME_API`: `host:port`. */
  constructor(endpoint: string) {
    let url: URL
    try {
      url = new URL(`http://${endpoint}`)
    } catch (cause) {
      throw new RuntimeApiError(
        `AWS_LAMBDA_RUNTIME_API must be "host:port", got "${endpoint}"`,
        undefined,
        { cause },
      )
    }
    this.hostname = url.hostname.replace(/^\[(.*)\]$/, '$1')
    this.port = Number(url.port || 80)
    this.agent = createAgent()
  }

  /** Destroys the connection and starts a new pool: the next call opens a new socket. */
  resetConnection(): void {
    this.agent.destroy()
    this.agent = createAgent()
  }

  /** Stops using the connection; for shutdown. */
  close(): void {
    this.agent.destroy()
  }

  /** `GET /runtime/invocation/next`: waits for the next event. */
  async nextInvocation(): Promise<NextInvocation> {
    const reply = await this.request('GET', NEXT_PATH, undefined, undefined)
    if (reply.status !== 200) throw unexpected('GET', NEXT_PATH, reply)
    const requestId = reply.headers['lambda-runtime-aws-request-id']
    if (typeof requestId !== 'string' || requestId === '') {
      throw new RuntimeApiError(
        `GET ${NEXT_PATH} answered without a Lambda-Runtime-Aws-Request-Id header`,
        reply.status,
      )
    }
    return { requestId, body: reply.body, headers: reply.headers }
  }

  /** `GET /runtime/restore/next`: blocks while the snapshot is taken, returns once restored. */
  async restoreNext(): Promise<void> {
    const reply = await this.request('GET', RESTORE_NEXT_PATH, undefined, undefined)
    if (reply.status !== 200) throw unexpected('GET', RESTORE_NEXT_PATH, reply)
  }

  /** `POST /runtime/invocation/{id}/response` with a JSON body already serialized. */
  async postResponse(requestId: string, body: string): Promise<void> {
    const path = `${BASE}/invocation/${requestId}/response`
    const reply = await this.request('POST', path, body, JSON_HEADERS)
    if (reply.status !== 202) throw unexpected('POST', path, reply)
  }

  /** `POST /runtime/invocation/{id}/error`. */
  postInvocationError(requestId: string, error: ErrorBody, errorType: string): Promise<void> {
    return this.postError(`${BASE}/invocation/${requestId}/error`, error, errorType)
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
    const reply = await this.request('POST', REPORT_PATH, JSON.stringify(report), JSON_HEADERS)
    if (reply.status !== 202) throw unexpected('POST', REPORT_PATH, reply)
  }

  private async postError(path: string, error: ErrorBody, errorType: string): Promise<void> {
    const headers = { 'Content-Type': 'application/json', [ERROR_TYPE_HEADER]: errorType }
    const reply = await this.request('POST', path, JSON.stringify(error), headers)
    if (reply.status !== 202) throw unexpected('POST', path, reply)
  }

  private request(
    method: string,
    path: string,
    body: string | undefined,
    headers: http.OutgoingHttpHeaders | undefined,
  ): Promise<Reply> {
    return new Promise((resolve, reject) => {
      const request = http.request(
        { agent: this.agent, hostname: this.hostname, port: this.port, method, path, headers },
        (response) => {
          let text = ''
          response.setEncoding('utf8')
          response.on('data', (chunk: string) => {
            text += chunk
          })
          response.on('end', () => {
            resolve({ status: response.statusCode ?? 0, headers: response.headers, body: text })
          })
          response.on('error', reject)
        },
      )
      request.on('error', (cause) => {
        reject(
          new RuntimeApiError(`${method} ${path} failed: ${cause.message}`, undefined, { cause }),
        )
      })
      request.end(body)
    })
  }
}

function createAgent(): http.Agent {
  return new http.Agent({ keepAlive: true, maxSockets: 1 })
}

function unexpected(method: string, path: string, reply: Reply): RuntimeApiError {
  const detail = reply.body.length > 200 ? `${reply.body.slice(0, 200)}...` : reply.body
  return new RuntimeApiError(
    `${method} ${path} answered ${reply.status}${detail === '' ? '' : `: ${detail}`}`,
    reply.status,
  )
}
