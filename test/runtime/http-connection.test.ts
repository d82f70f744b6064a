import net from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { HttpConnection } from '../../src/runtime/http-connection.js'
import { HttpProtocolError, MAX_HEAD_BYTES } from '../../src/runtime/http-reply-reader.js'

/** A request as the raw server read it, and the connection it came on (1, 2, ...). */
interface Received {
  text: string
  socket: number
}

type Answer = (socket: net.Socket, request: Received, index: number) => void | Promise<void>

let server: net.Server | undefined
const sockets: net.Socket[] = []
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy()
  await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined))
  server = undefined
})

/**
 * A raw TCP server that reads each request (head, then a Content-Length body) and lets
 * `answer` write whatever bytes it likes; resolves to a connection to it and the requests.
 */
async function rawServer(answer: Answer) {
  const received: Received[] = []
  server = net.createServer((socket) => {
    sockets.push(socket)
    const id = sockets.length
    let buffered = ''
    socket.setEncoding('latin1')
    socket.on('data', async (text: string) => {
      buffered += text
      for (;;) {
        const end = buffered.indexOf('\r\n\r\n')
        if (end === -1) return
        const length = Number(/\r\ncontent-length: (\d+)/i.exec(buffered.slice(0, end))?.[1] ?? 0)
        if (buffered.length < end + 4 + length) return
        const request = { text: buffered.slice(0, end + 4 + length), socket: id }
        buffered = buffered.slice(end + 4 + length)
        received.push(request)
        await answer(socket, request, received.length - 1)
      }
    })
  })
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as net.AddressInfo
  return { connection: new HttpConnection('127.0.0.1', port), received, port }
}

const GET = 'GET /next HTTP/1.1\r\nHost: x\r\n\r\n'

/** Writes `text` one piece at a time, each in its own TCP segment as far as Nagle allows. */
async function trickle(socket: net.Socket, pieces: (string | Buffer)[]): Promise<void> {
  socket.setNoDelay(true)
  for (const piece of pieces) {
    socket.write(piece)
    await new Promise((resolve) => setTimeout(resolve, 2))
  }
}

describe('HttpConnection: well-formed replies', () => {
  it('reads Content-Length replies and keeps one connection for every request', async () => {
    const { connection, received } = await rawServer((socket, _request, index) => {
      const body = `{"n":${index}}`
      socket.write(
        `HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: id-${index}\r\n` +
          `X-Twice: a\r\nx-twice: b\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
      )
    })
    const first = await connection.send(GET)
    const second = await connection.send('POST /r HTTP/1.1\r\nContent-Length: 2\r\n\r\nok')

    expect(first).toEqual({
      status: 200,
      headers: {
        'lambda-runtime-aws-request-id': 'id-0',
        'x-twice': 'a, b',
        'content-length': '7',
      },
      body: '{"n":0}',
      keepAlive: true,
    })
    expect(second.body).toBe('{"n":1}')
    expect(received.map((request) => request.socket)).toEqual([1, 1])
    expect(received[1]!.text).toBe('POST /r HTTP/1.1\r\nContent-Length: 2\r\n\r\nok')
  })

  it('reads a reply that arrives in pieces, a UTF-8 character split between two', async () => {
    const body = Buffer.from('{"word":"héllo"}')
    const split = body.indexOf(0xc3) + 1
    const { connection } = await rawServer((socket) =>
      trickle(socket, [
        'HTTP/1.1 2',
        `00 OK\r\nContent-Length: ${body.length}\r`,
        '\n\r',
        '\n',
        body.subarray(0, split),
        body.subarray(split),
      ]),
    )
    expect((await connection.send(GET)).body).toBe('{"word":"héllo"}')
  })

  it('reads a chunked reply with chunk extensions and trailers, in pieces', async () => {
    const { connection, received } = await rawServer((socket) =>
      trickle(socket, [
        'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n',
        '5;name=value\r\nhel',
        'lo\r\n',
        'A\r\n, chunked!\r\n0\r\nX-Trailer: yes\r\n',
        '\r\n',
      ]),
    )
    expect((await connection.send(GET)).body).toBe('hello, chunked!')
    expect((await connection.send(GET)).body).toBe('hello, chunked!')
    expect(received.map((request) => request.socket)).toEqual([1, 1])
  })

  it('reads a body that runs to the end of the connection, then opens a new one', async () => {
    const { connection, received } = await rawServer((socket) => {
      socket.end('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end')
    })
    expect(await connection.send(GET)).toMatchObject({ body: 'until the end', keepAlive: false })
    expect((await connection.send(GET)).body).toBe('until the end')
    expect(received.map((request) => request.socket)).toEqual([1, 2])
  })

  it('opens a new connection after a reply with Connection: close', async () => {
    const { connection, received } = await rawServer((socket) => {
      socket.write('HTTP/1.1 202 Accepted\r\nConnection: close\r\nContent-Length: 0\r\n\r\n')
    })
    expect(await connection.send(GET)).toMatchObject({ status: 202, body: '', keepAlive: false })
    await connection.send(GET)
    expect(received.map((request) => request.socket)).toEqual([1, 2])
  })

  it('skips an interim 100 Continue and reads the reply after it', async () => {
    const { connection } = await rawServer((socket) => {
      socket.write(
        'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 202 Accepted\r\nContent-Length: 2\r\n\r\nok',
      )
    })
    expect(await connection.send(GET)).toMatchObject({ status: 202, body: 'ok' })
  })

  it('sends requests made at the same time one after another, in order', async () => {
    const { connection, received } = await rawServer((socket, _request, index) => {
      socket.write(`HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n${index}`)
    })
    const replies = await Promise.all([1, 2, 3].map(() => connection.send(GET)))
    expect(replies.map((reply) => reply.body)).toEqual(['0', '1', '2'])
    expect(received.map((request) => request.socket)).toEqual([1, 1, 1])
  })

  it('opens a new connection after reset()', async () => {
    const { connection, received } = await rawServer((socket) => {
      socket.write('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n')
    })
    await connection.send(GET)
    connection.reset()
    await connection.send(GET)
    await connection.send(GET)
    expect(received.map((request) => request.socket)).toEqual([1, 2, 2])
  })
})

describe('HttpConnection: malformed replies and broken connections', () => {
  async function failureOf(answer: Answer): Promise<Error> {
    const { connection, received } = await rawServer(async (socket, request, index) => {
      // The second request shows the connection recovered, on a new socket.
      if (index === 0) await answer(socket, request, index)
      else socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok')
    })
    const error = await connection.send(GET).then(
      () => new Error('the request succeeded'),
      (failure: Error) => failure,
    )
    expect((await connection.send(GET)).body).toBe('ok')
    expect(received.map((request) => request.socket)).toEqual([1, 2])
    return error
  }

  it.each([
    ['a bad status line', 'HTTP/1.1 abc OK\r\n\r\n', 'malformed status line "HTTP/1.1 abc OK"'],
    [
      'a reply that is not HTTP',
      'SSH-2.0-OpenSSH\r\n\r\n',
      'malformed status line "SSH-2.0-OpenSSH"',
    ],
    [
      'a header line without a colon',
      'HTTP/1.1 200 OK\r\nno colon here\r\n\r\n',
      'malformed header line "no colon here"',
    ],
    [
      'a space before the colon',
      'HTTP/1.1 200 OK\r\nContent-Length : 2\r\n\r\nok',
      'malformed header line "Content-Length : 2"',
    ],
    [
      'an invalid Content-Length',
      'HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n',
      'invalid Content-Length "-1"',
    ],
    [
      'two different Content-Length headers',
      'HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nok',
      'invalid Content-Length "1, 2"',
    ],
    [
      'a bad chunk size',
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n',
      'malformed chunk size "zz"',
    ],
    [
      'a chunk longer than its size',
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n',
      'a chunk is longer than its size says',
    ],
    [
      'a line ending in a bare LF',
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\nab\r\n0\r\n\r\n',
      'a line of the reply does not end with CRLF',
    ],
  ])('fails with a clear error on %s, then recovers', async (_name, reply, message) => {
    const error = await failureOf((socket) => {
      socket.write(reply)
    })
    expect(error).toBeInstanceOf(HttpProtocolError)
    expect(error.message).toBe(message)
  })

  it('fails on a head larger than the limit', async () => {
    const error = await failureOf((socket) => {
      socket.write(`HTTP/1.1 200 OK\r\nX-Big: ${'x'.repeat(MAX_HEAD_BYTES)}\r\n`)
    })
    expect(error.message).toBe(`the reply head is longer than ${MAX_HEAD_BYTES} bytes`)
  })

  it.each([
    ['before a reply arrived', '', 'the connection closed before a reply arrived'],
    [
      'in the middle of the head',
      'HTTP/1.1 200 OK\r\nContent-Len',
      'the connection closed in the middle of the head of the reply',
    ],
    [
      'in the middle of a Content-Length body',
      'HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc',
      'the connection closed in the middle of the body of the reply',
    ],
    [
      'before the last chunk',
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n',
      'the connection closed in the middle of the body of the reply',
    ],
  ])('fails when the connection closes %s', async (_name, partial, message) => {
    const error = await failureOf((socket) => {
      socket.end(partial)
    })
    expect(error.message).toBe(message)
  })

  it('fails with the socket error when nothing listens', async () => {
    const { port } = await rawServer(() => {})
    await new Promise((resolve) => server!.close(resolve))
    server = undefined
    const connection = new HttpConnection('127.0.0.1', port)
    await expect(connection.send(GET)).rejects.toThrow(`connect ECONNREFUSED 127.0.0.1:${port}`)
  })

  it('fails the request in flight on reset(), and sends the next on a new connection', async () => {
    const { connection, received } = await rawServer((socket, _request, index) => {
      if (index > 0) socket.write('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n')
    })
    const held = connection.send(GET)
    await new Promise((resolve) => setTimeout(resolve, 20))
    connection.reset()
    await expect(held).rejects.toThrow('the connection was closed by the client')
    expect((await connection.send(GET)).status).toBe(200)
    expect(received.map((request) => request.socket)).toEqual([1, 2])
  })
})
