import { spawn } from 'node:child_process'
import http from 'node:http'
import net, { type AddressInfo } from 'node:net'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const BIN = join(ROOT, 'dist', 'runtime-bin.js')
const TASK_ROOT = join(ROOT, 'test', 'fixtures', 'rt-behaviours')

type Route = (request: http.IncomingMessage, response: http.ServerResponse, body: string) => void

let server: http.Server | undefined
afterEach(async () => {
  if (server === undefined) return
  server.closeAllConnections()
  await new Promise((resolve) => server!.close(resolve))
  server = undefined
})

/** A misbehaving Runtime API, and the runtime run against it until it exits. */
async function runAgainst(
  route: Route,
  env: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string }> {
  server = http.createServer((request, response) => {
    let body = ''
    request.setEncoding('utf8')
    request.on('data', (chunk: string) => {
      body += chunk
    })
    request.on('end', () => route(request, response, body))
  })
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return runRuntime(port, env)
}

let rawServer: net.Server | undefined
afterEach(async () => {
  if (rawServer === undefined) return
  await new Promise((resolve) => rawServer!.close(resolve))
  rawServer = undefined
})

/**
 * A Runtime API that writes raw bytes: `answer` gets each request's head and body and
 * returns the bytes of the reply, or ends the socket itself.
 */
async function runAgainstRaw(
  answer: (socket: net.Socket, head: string, body: string) => string | undefined,
  env: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string }> {
  rawServer = net.createServer((socket) => {
    let buffered = ''
    socket.setEncoding('utf8')
    socket.on('data', (text: string) => {
      buffered += text
      for (;;) {
        const end = buffered.indexOf('\r\n\r\n')
        if (end === -1) return
        const head = buffered.slice(0, end)
        const length = Number(/\r\ncontent-length: (\d+)/i.exec(head)?.[1] ?? 0)
        if (Buffer.byteLength(buffered.slice(end + 4)) < length) return
        const body = buffered.slice(end + 4, end + 4 + length)
        buffered = buffered.slice(end + 4 + length)
        const reply = answer(socket, head, body)
        if (reply !== undefined) socket.write(reply)
      }
    })
  })
  await new Promise<void>((resolve) => rawServer!.listen(0, '127.0.0.1', resolve))
  const { port } = rawServer.address() as AddressInfo
  return runRuntime(port, env)
}

/** Runs the runtime against 127.0.0.1:`port`; `env` adds or replaces variables. */
async function runRuntime(
  port: number,
  env: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string }> {
  const child = spawn(process.execPath, [BIN], {
    cwd: TASK_ROOT,
    env: {
      PATH: process.env.PATH,
      AWS_LAMBDA_RUNTIME_API: `127.0.0.1:${port}`,
      LAMBDA_TASK_ROOT: TASK_ROOT,
      _HANDLER: 'handler.echo',
      AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  let stdout = ''
  child.stdout.setEncoding('utf8')
  child.stdout.on('data', (chunk: string) => {
    stdout += chunk
  })
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve))
  return { code, stdout }
}

describe('malformed Runtime API replies', () => {
  it('exits 1 with a clear log line when invocation/next answers 500', async () => {
    const { code, stdout } = await runAgainst((_request, response) => {
      response.writeHead(500).end('{"errorType":"Boom"}')
    })
    expect(code).toBe(1)
    const line = JSON.parse(stdout.trim().split('\n').at(-1)!)
    expect(line).toMatchObject({
      level: 'ERROR',
      message: 'GET /2018-06-01/runtime/invocation/next answered 500: {"errorType":"Boom"}',
      status: 500,
    })
  })

  it('exits 1 when invocation/next answers without a request id', async () => {
    const { code, stdout } = await runAgainst((_request, response) => {
      response.writeHead(200, { 'Lambda-Runtime-Deadline-Ms': String(Date.now() + 1000) })
      response.end('{}')
    })
    expect(code).toBe(1)
    expect(stdout).toContain(
      'GET /2018-06-01/runtime/invocation/next answered without a ' +
        'Lambda-Runtime-Aws-Request-Id header',
    )
  })

  it('posts a non-JSON event back as a Runtime.MalformedEvent invocation error', async () => {
    const posts: { url: string; type: unknown; body: unknown }[] = []
    let served = false
    const { code } = await runAgainst((request, response, body) => {
      if (request.method === 'POST') {
        posts.push({
          url: request.url ?? '',
          type: request.headers['lambda-runtime-function-error-type'],
          body: JSON.parse(body),
        })
        response.writeHead(202).end()
        return
      }
      if (served) return response.writeHead(410).end()
      served = true
      response.writeHead(200, {
        'Lambda-Runtime-Aws-Request-Id': 'req-1',
        'Lambda-Runtime-Deadline-Ms': String(Date.now() + 1000),
      })
      response.end('not json')
    })
    expect(code).toBe(1)
    expect(posts).toHaveLength(1)
    expect(posts[0]!.url).toBe('/2018-06-01/runtime/invocation/req-1/error')
    expect(posts[0]!.type).toBe('Runtime.MalformedEvent')
    expect(posts[0]!.body).toMatchObject({ errorType: 'Runtime.MalformedEvent' })
  })

  it('reads an event sent with chunked transfer-encoding and posts the response', async () => {
    const posts: { head: string; body: string }[] = []
    const { code } = await runAgainstRaw((_socket, head, body) => {
      if (head.startsWith('POST ')) {
        posts.push({ head: head.split('\r\n')[0]!, body })
        return 'HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n'
      }
      if (posts.length > 0) return 'HTTP/1.1 410 Gone\r\nContent-Length: 0\r\n\r\n'
      return (
        'HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: req-1\r\n' +
        `Lambda-Runtime-Deadline-Ms: ${Date.now() + 1000}\r\nTransfer-Encoding: chunked\r\n\r\n` +
        '4\r\n{"a"\r\n3\r\n:1}\r\n0\r\n\r\n'
      )
    })
    expect(code).toBe(1)
    expect(posts).toEqual([
      { head: 'POST /2018-06-01/runtime/invocation/req-1/response HTTP/1.1', body: '{"a":1}' },
    ])
  })

  it.each([
    [
      'a bad status line',
      'HTTP/1.1 twohundred OK\r\n\r\n',
      'malformed status line "HTTP/1.1 twohundred OK"',
    ],
    [
      'a body cut short by the connection closing',
      'HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: r\r\nContent-Length: 50\r\n\r\n{"a"',
      'the connection closed in the middle of the body of the reply',
    ],
    [
      'a connection closed in the middle of the head',
      'HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Req',
      'the connection closed in the middle of the head of the reply',
    ],
    ['a connection closed before any reply', '', 'the connection closed before a reply arrived'],
  ])('exits 1 with a clear log line on %s from invocation/next', async (_name, bytes, reason) => {
    const { code, stdout } = await runAgainstRaw((socket) => {
      socket.end(bytes)
      return undefined
    })
    expect(code).toBe(1)
    const line = JSON.parse(stdout.trim().split('\n').at(-1)!)
    expect(line).toMatchObject({
      level: 'ERROR',
      message: `GET /2018-06-01/runtime/invocation/next failed: ${reason}`,
    })
  })

  it('exits 1 when AWS_LAMBDA_RUNTIME_API is missing', async () => {
    const child = spawn(process.execPath, [BIN], {
      env: { PATH: process.env.PATH },
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    let stdout = ''
    child.stdout.setEncoding('utf8')
    child.stdout.on('data', (chunk: string) => {
      stdout += chunk
    })
    expect(await new Promise((resolve) => child.once('exit', resolve))).toBe(1)
    expect(stdout).toContain('AWS_LAMBDA_RUNTIME_API is not set')
  })
})

describe('AWS_LAMBDA_RUNTIME_API is validated before any connection', () => {
  const expected =
    'host:port without a scheme or path, such as 127.0.0.1:9001 or localhost:9001 ' +
    '(host: a hostname, an IPv4 address or an [IPv6] address; port: 1 to 65535)'

  it.each([
    'not a host:port',
    '127.0.0.1:99999',
    '127.0.0.1:0',
    '[::1',
    '[::1]',
    '127.0.0.1:abc',
    '127.0.0.1',
    '999.0.0.1:9001',
    'http://127.0.0.1:{port}',
    '127.0.0.1:{port}/path',
  ])('exits 1 with one JSON line for %j, connecting nowhere', async (template) => {
    let connections = 0
    rawServer = net.createServer((socket) => {
      connections++
      socket.destroy()
    })
    await new Promise<void>((resolve) => rawServer!.listen(0, '127.0.0.1', resolve))
    const { port } = rawServer.address() as AddressInfo
    const value = template.replace('{port}', String(port))

    const { code, stdout } = await runRuntime(port, { AWS_LAMBDA_RUNTIME_API: value })

    expect(code).toBe(1)
    const lines = stdout.trim().split('\n')
    expect(lines).toHaveLength(1)
    expect(JSON.parse(lines[0]!)).toMatchObject({
      level: 'ERROR',
      message: `AWS_LAMBDA_RUNTIME_API is ${JSON.stringify(value)}: expected ${expected}`,
      type: 'snapstart.runtime',
    })
    expect(connections).toBe(0)
  })

  it.each([['localhost:{port}'], ['[::1]:{port}']])(
    'accepts %s: a hostname and a bracketed IPv6 address',
    async (template) => {
      const { parseRuntimeApi } = await import('../../src/runtime/client.js')
      const value = template.replace('{port}', '9001')
      expect(parseRuntimeApi(value)).toEqual({
        host: value,
        hostname: value.startsWith('[') ? '::1' : 'localhost',
        port: 9001,
      })
    },
  )
})

describe('request ids in paths', () => {
  it('percent-encodes a request id, so it stays one path segment', async () => {
    const posts: string[] = []
    const { code } = await runAgainstRaw((_socket, head) => {
      if (head.startsWith('POST ')) {
        posts.push(head.split('\r\n')[0]!)
        return 'HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n'
      }
      if (posts.length > 0) return 'HTTP/1.1 410 Gone\r\nContent-Length: 0\r\n\r\n'
      return (
        'HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: ../../x?y=1#\r\n' +
        `Lambda-Runtime-Deadline-Ms: ${Date.now() + 1000}\r\nContent-Length: 2\r\n\r\n{}`
      )
    })
    expect(code).toBe(1)
    expect(posts).toEqual([
      'POST /2018-06-01/runtime/invocation/..%2F..%2Fx%3Fy%3D1%23/response HTTP/1.1',
    ])
  })
})

describe('a connection reset in the middle of restore/next', () => {
  it('posts init/error naming GET restore/next, then exits 64', async () => {
    const posts: { head: string; body: string }[] = []
    const { code, stdout } = await runAgainstRaw(
      (socket, head, body) => {
        if (head.startsWith('POST ')) {
          posts.push({ head, body })
          return 'HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n'
        }
        socket.end('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n{"a"')
        return undefined
      },
      { AWS_LAMBDA_INITIALIZATION_TYPE: 'snap-start' },
    )
    const message =
      'GET /2018-06-01/runtime/restore/next failed: the connection closed in the middle of ' +
      'the body of the reply'

    expect(code).toBe(64)
    expect(posts).toHaveLength(1)
    const [requestLine, ...headers] = posts[0]!.head.split('\r\n')
    expect(requestLine).toBe('POST /2018-06-01/runtime/init/error HTTP/1.1')
    expect(headers).toContain('Lambda-Runtime-Function-Error-Type: Runtime.BeforeSnapshotError')
    expect(JSON.parse(posts[0]!.body)).toMatchObject({
      errorType: 'RuntimeApiError',
      errorMessage: message,
    })
    expect(JSON.parse(stdout.trim().split('\n').at(-1)!)).toMatchObject({
      level: 'ERROR',
      message: `Runtime.BeforeSnapshotError: ${message}`,
    })
  })
})

describe('Lambda-Runtime-Deadline-Ms', () => {
  it.each([
    ['missing', undefined, 'missing'],
    ['not a number', 'soon', 'not a whole number'],
    ['empty', '', 'not a whole number'],
  ])('%s: one warning, and 900 000 ms from receipt, never NaN', async (_, deadline, how) => {
    const bodies: string[] = []
    const before = Date.now()
    const { code, stdout } = await runAgainst(
      (request, response, body) => {
        if (request.method === 'POST') {
          bodies.push(body)
          return response.writeHead(202).end()
        }
        if (bodies.length > 0) return response.writeHead(410).end()
        const headers: Record<string, string> = { 'Lambda-Runtime-Aws-Request-Id': 'req-1' }
        if (deadline !== undefined) headers['Lambda-Runtime-Deadline-Ms'] = deadline
        response.writeHead(200, headers).end('{}')
      },
      { _HANDLER: 'handler.context' },
    )
    const after = Date.now()

    expect(code).toBe(1)
    const remaining = JSON.parse(bodies[0]!).remaining as number
    expect(Number.isInteger(remaining)).toBe(true)
    expect(remaining).toBeLessThanOrEqual(900_000)
    expect(remaining).toBeGreaterThanOrEqual(900_000 - (after - before))
    const warnings = stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line))
      .filter((line) => line.level === 'WARN')
    expect(warnings).toEqual([
      expect.objectContaining({
        message:
          `Lambda-Runtime-Deadline-Ms is ${how}: getRemainingTimeInMillis() counts down from ` +
          '900000 ms',
        type: 'snapstart.runtimeApi',
        requestId: 'req-1',
      }),
    ])
  })
})
