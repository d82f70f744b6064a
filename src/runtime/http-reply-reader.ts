/** One HTTP/1.1 reply, as read off the wire. */
export interface HttpReply {
  status: number
  /** Header names in lower case; a repeated header's values joined with `, `, as Node does. */
  headers: Record<string, string>
  /** The body, decoded as UTF-8. */
  body: string
  /** False when the server asked to close the connection after this reply. */
  keepAlive: boolean
}

/** The server's bytes are not a well-formed HTTP/1.1 reply. */
export class HttpProtocolError extends Error {
  override name = 'HttpProtocolError'
}

/** Larger than any head the Runtime API sends (a client context is at most 3.5 KB). */
export const MAX_HEAD_BYTES = 64 * 1024
/** A chunk-size line or a trailer line longer than this is refused. */
const MAX_LINE_BYTES = 8 * 1024

const HEAD = 0
const BODY_LENGTH = 1
const BODY_UNTIL_CLOSE = 2
const CHUNK_SIZE = 3
const CHUNK_DATA = 4
const CHUNK_END = 5
const TRAILER = 6
const DONE = 7

const HEAD_END = Buffer.from('\r\n\r\n', 'latin1')
const STATUS_LINE = /^HTTP\/1\.([01]) ([1-9]\d\d)(?: [^\r\n]*)?$/
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/
const DIGITS = /^\d{1,15}$/
const CHUNK_SIZE_LINE = /^([0-9a-fA-F]{1,8})[ \t]*(?:;.*)?$/
const CR = 13
const LF = 10
const NO_BYTES = Buffer.alloc(0)
const NO_HEADERS: Record<string, string> = Object.freeze(Object.create(null))

/**
 * Reads one reply at a time from the bytes of a keep-alive connection: the status line and
 * headers, then a body framed by `Content-Length`, by chunked transfer-encoding (chunk
 * extensions and trailers are read and ignored), or by the end of the connection. Interim
 * `1xx` replies are skipped. It keeps no more than the unfinished line of a head or chunk
 * header, so a large body costs no copying until it is decoded once at the end.
 */
export class HttpReplyReader {
  /** Bytes after the end of the last reply; a client that does not pipeline expects none. */
  rest: Buffer = NO_BYTES
  private stage = HEAD
  private pending: Buffer | undefined
  private received = false
  private status = 0
  private headers = NO_HEADERS
  private keepAlive = true
  private remaining = 0
  private chunks: Buffer[] = []
  private bodyBytes = 0

  /** Starts reading a new reply. */
  reset(): void {
    this.stage = HEAD
    this.pending = undefined
    this.received = false
    this.status = 0
    this.headers = NO_HEADERS
    this.keepAlive = true
    this.chunks = []
    this.bodyBytes = 0
    this.rest = NO_BYTES
  }

  /**
   * Takes the next bytes from the connection; returns the reply once it is complete (with
   * any bytes past its end in `rest`), `undefined` while more are needed. Throws an
   * `HttpProtocolError` for a malformed reply.
   */
  push(input: Buffer): HttpReply | undefined {
    if (input.length > 0) this.received = true
    let data = input
    if (this.pending !== undefined) {
      data = Buffer.concat([this.pending, input])
      this.pending = undefined
    }
    let at = 0
    for (;;) {
      switch (this.stage) {
        case HEAD: {
          const end = data.indexOf(HEAD_END, at)
          if (end === -1) return this.keep(data, at, MAX_HEAD_BYTES, 'reply head')
          if (end - at > MAX_HEAD_BYTES) throw tooLong('reply head', MAX_HEAD_BYTES)
          this.readHead(data.toString('latin1', at, end))
          at = end + 4
          break
        }
        case BODY_LENGTH:
        case CHUNK_DATA: {
          const take = Math.min(this.remaining, data.length - at)
          if (take > 0) {
            this.chunks.push(data.subarray(at, at + take))
            this.bodyBytes += take
            this.remaining -= take
            at += take
          }
          if (this.remaining > 0) return undefined
          this.stage = this.stage === BODY_LENGTH ? DONE : CHUNK_END
          break
        }
        case BODY_UNTIL_CLOSE: {
          if (at < data.length) {
            this.chunks.push(data.subarray(at))
            this.bodyBytes += data.length - at
          }
          return undefined
        }
        case CHUNK_SIZE: {
          const line = this.line(data, at)
          if (line === undefined) return this.keep(data, at, MAX_LINE_BYTES, 'chunk-size line')
          at += line.length + 2
          const match = CHUNK_SIZE_LINE.exec(line)
          if (match === null) throw new HttpProtocolError(`malformed chunk size ${quote(line)}`)
          this.remaining = Number.parseInt(match[1]!, 16)
          this.stage = this.remaining === 0 ? TRAILER : CHUNK_DATA
          break
        }
        case CHUNK_END: {
          if (data.length - at < 2) return this.keep(data, at, 2, 'chunk end')
          if (data[at] !== CR || data[at + 1] !== LF) {
            throw new HttpProtocolError('a chunk is longer than its size says')
          }
          at += 2
          this.stage = CHUNK_SIZE
          break
        }
        case TRAILER: {
          const line = this.line(data, at)
          if (line === undefined) return this.keep(data, at, MAX_LINE_BYTES, 'trailer line')
          at += line.length + 2
          if (line === '') this.stage = DONE
          break
        }
        default: {
          if (at < data.length) this.rest = data.subarray(at)
          return this.reply()
        }
      }
    }
  }

  /**
   * The connection has ended: returns the reply when its body runs to the end of the
   * connection, and throws an `HttpProtocolError` saying how far it got otherwise.
   */
  end(): HttpReply {
    if (this.stage === BODY_UNTIL_CLOSE) return this.reply()
    if (this.stage === HEAD && !this.received) {
      throw new HttpProtocolError('the connection closed before a reply arrived')
    }
    const where = this.stage === HEAD ? 'the head' : 'the body'
    throw new HttpProtocolError(`the connection closed in the middle of ${where} of the reply`)
  }

  private readHead(head: string): void {
    const lines = head.split('\r\n')
    const statusLine = lines[0]!
    const match = STATUS_LINE.exec(statusLine)
    if (match === null) throw new HttpProtocolError(`malformed status line ${quote(statusLine)}`)
    const status = Number(match[2])
    const headers: Record<string, string> = Object.create(null)
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i]!
      const colon = line.indexOf(':')
      const name = colon > 0 ? line.slice(0, colon) : ''
      if (!TOKEN.test(name)) throw new HttpProtocolError(`malformed header line ${quote(line)}`)
      const key = name.toLowerCase()
      const value = line.slice(colon + 1).trim()
      const previous = headers[key]
      headers[key] = previous === undefined ? value : `${previous}, ${value}`
    }

    if (status < 200) {
      // An interim reply (100 Continue, 103 Early Hints): the real one follows.
      if (status === 101) throw new HttpProtocolError('unexpected 101 Switching Protocols')
      return
    }
    this.status = status
    this.headers = headers
    const connection = headers.connection?.toLowerCase() ?? ''
    this.keepAlive =
      match[1] === '1' ? !hasToken(connection, 'close') : hasToken(connection, 'keep-alive')
    this.frame(headers)
  }

  /** Chooses how the body ends, as RFC 9112 section 6.3 orders the rules for a reply. */
  private frame(headers: Record<string, string>): void {
    if (this.status === 204 || this.status === 304) {
      this.stage = DONE
      return
    }
    const coding = headers['transfer-encoding']
    if (coding !== undefined) {
      // Transfer-Encoding overrides Content-Length; only a final `chunked` frames the body.
      this.keepAlive = false
      const codings = coding.toLowerCase().split(',')
      if (codings[codings.length - 1]!.trim() === 'chunked') {
        this.keepAlive = true
        this.stage = CHUNK_SIZE
      } else {
        this.stage = BODY_UNTIL_CLOSE
      }
      return
    }
    const length = headers['content-length']
    if (length === undefined) {
      this.keepAlive = false
      this.stage = BODY_UNTIL_CLOSE
      return
    }
    if (!DIGITS.test(length)) throw new HttpProtocolError(`invalid Content-Length ${quote(length)}`)
    this.remaining = Number(length)
    this.stage = this.remaining === 0 ? DONE : BODY_LENGTH
  }

  private reply(): HttpReply {
    const chunks = this.chunks
    const body =
      chunks.length === 0
        ? ''
        : chunks.length === 1
          ? chunks[0]!.toString('utf8')
          : Buffer.concat(chunks, this.bodyBytes).toString('utf8')
    return { status: this.status, headers: this.headers, body, keepAlive: this.keepAlive }
  }

  /** The CRLF-terminated line at `at`, without its CRLF; `undefined` when incomplete. */
  private line(data: Buffer, at: number): string | undefined {
    const end = data.indexOf(LF, at)
    if (end === -1) return undefined
    if (end === at || data[end - 1] !== CR) {
      throw new HttpProtocolError('a line of the reply does not end with CRLF')
    }
    if (end - 1 - at > MAX_LINE_BYTES) throw tooLong('line', MAX_LINE_BYTES)
    return data.toString('latin1', at, end - 1)
  }

  /** Keeps the unread bytes of an unfinished line for the next `push`. */
  private keep(data: Buffer, at: number, limit: number, what: string): undefined {
    if (data.length - at > limit) throw tooLong(what, limit)
    if (at < data.length) this.pending = data.subarray(at)
    return undefined
  }
}

function hasToken(list: string, token: string): boolean {
  if (list === '') return false
  for (const item of list.split(',')) if (item.trim() === token) return true
  return false
}

function tooLong(what: string, limit: number): HttpProtocolError {
  return new HttpProtocolError(`the ${what} is longer than ${limit} bytes`)
}

function quote(text: string): string {
  return JSON.stringify(text.length > 100 ? `${text.slice(0, 100)}...` : text)
}
