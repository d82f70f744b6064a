import { once } from 'node:events'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, beforeEach, expect } from 'vitest'
import { registerResource, reset } from '../../src/index.js'
import { captureLogs } from '../core/helpers.js'

/** The paths the adapter POSTs to in these tests, as set in its environment variables. */
export const BEFORE = '/_snapstart/before-checkpoint'
export const AFTER = '/_snapstart/after-restore'

/** One answer as the client saw it; a JSON body is parsed. */
export interface Answer {
  status: number
  type: string | undefined
  body: any
}

/** What a test sends: headers and a body (none by default, as the adapter sends). */
export interface Outgoing {
  headers?: Record<string, string>
  body?: string
}

/** Sends one request to a server on 127.0.0.1 and resolves to its answer. */
export type Send = (method: string, path: string, outgoing?: Outgoing) => Promise<Answer>

/**
 * Sets up each test as a snap-start environment behind the adapter (fresh registry, the
 * two paths in the environment, logs captured) and puts everything back afterwards.
 */
export function useAdapterEnvironment(): void {
  const saved = { ...process.env }
  let logs: ReturnType<typeof captureLogs>

  beforeEach(() => {
    reset()
    logs = captureLogs()
    process.env.AWS_LAMBDA_INITIALIZATION_TYPE = 'snap-start'
    process.env.AWS_LWA_SNAPSTART_BEFORE_CHECKPOINT_PATH = BEFORE
    process.env.AWS_LWA_SNAPSTART_AFTER_RESTORE_PATH = AFTER
    delete process.env.SNAPSTART_RESTORE_BUDGET_MS
  })
  afterEach(() => {
    logs.restore()
    process.env = { ...saved }
    reset()
  })
}

/** Listens on 127.0.0.1, on a port the system picks, and returns the sender for it. */
export async function listen(server: http.Server): Promise<Send> {
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return sender(server)
}

/** The sender for a server that is already listening on 127.0.0.1. */
export function sender(server: http.Server): Send {
  const { port } = server.address() as AddressInfo
  return (method, path, outgoing = {}) =>
    new Promise<Answer>((resolve, reject) => {
      const headers = { ...outgoing.headers }
      const options = { host: '127.0.0.1', port, method, path, headers, agent: false }
      const req = http.request(options, (res) => {
        let text = ''
        res.setEncoding('utf8')
        res.on('data', (chunk: string) => {
          text += chunk
        })
        res.on('end', () => {
          const type = res.headers['content-type']
          const body = type?.startsWith('application/json') ? JSON.parse(text) : text
          resolve({ status: res.statusCode ?? 0, type, body })
        })
      })
      req.on('error', reject)
      req.end(outgoing.body)
    })
}

/** Closes a server started with `listen`, dropping its idle keep-alive connections. */
export async function close(server: http.Server): Promise<void> {
  server.closeAllConnections()
  server.close()
  await once(server, 'close')
}

/** Registers a resource named `db` that records its two halves in `calls`. */
export function pool(calls: string[]): void {
  registerResource({
    name: 'db',
    beforeSnapshot: () => void calls.push('close'),
    afterRestore: () => void calls.push('reopen'),
  })
}

/** The report a phase answers with when its one hook, `db`, succeeded. */
export function okReport(phase: 'beforeSnapshot' | 'afterRestore', budgetMs: number) {
  return {
    phase,
    startedAt: expect.any(String),
    durationMs: expect.any(Number),
    status: 'ok',
    budgetMs,
    hooks: [{ name: 'db', status: 'ok', durationMs: expect.any(Number) }],
  }
}
