import net from 'node:net'
import { type HttpReply, HttpReplyReader } from './http-reply-reader.js'

/** The part of a `net.Socket` that `HttpConnection` uses. */
export interface HttpSocket {
  write(data: string): unknown
  setNoDelay(noDelay: boolean): unknown
  ref(): unknown
  unref(): unknown
  destroy(): unknown
  on(event: 'data', listener: (data: Buffer) => void): unknown
  on(event: 'error', listener: (error: Error) => void): unknown
  on(event: 'close', listener: () => void): unknown
}

/** Opens the socket of an `HttpConnection` to `host` and `port`. */
export type Connect = (host: string, port: number) => HttpSocket

/** Opens a TCP connection, as `net.connect` does. */
export const connectTcp: Connect = (host, port) => net.connect({ host, port })

interface Exchange {
  request: string
  resolve(reply: HttpReply): void
  reject(error: Error): void
}

/**
 * One HTTP/1.1 keep-alive connection over a single `net.Socket`, with requests sent one at
 * a time: a request made while another is in flight waits its turn, as with an
 * `http.Agent` of one socket. The socket is opened on the first request, with Nagle's
 * algorithm off, and opened again after the server closes it, after a reply that asks to
 * close, after a malformed reply, or after `reset()`.
 *
 * Between requests the socket is unref'd, so an idle connection does not keep the process
 * alive: a callback handler waiting for an empty event loop still sees one.
 */
export class HttpConnection {
  private socket: HttpSocket | undefined
  private socketError: Error | undefined
  private active: Exchange | undefined
  private readonly queue: Exchange[] = []
  private readonly reader = new HttpReplyReader()

  /**
   * `host` is a name or an IP address without brackets; `port` a TCP port. `connect` opens
   * the socket, default `connectTcp`; the runtime's warm-up gives it one held in memory.
   */
  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly connect: Connect = connectTcp,
  ) {}

  /**
   * Sends `request`, a complete request (head and body), and resolves to the reply. Rejects
   * with an `HttpProtocolError` for a malformed reply, or with the socket's error when the
   * connection fails.
   */
  send(request: string): Promise<HttpReply> {
    return new Promise((resolve, reject) => {
      const exchange: Exchange = { request, resolve, reject }
      if (this.active === undefined) this.start(exchange)
      else this.queue.push(exchange)
    })
  }

  /**
   * Destroys the socket: the next request opens a new one. A request in flight fails; the
   * ones waiting go out on the new socket.
   */
  reset(): void {
    const socket = this.socket
    if (socket === undefined) return
    this.drop(socket)
    this.failActive(new Error('the connection was closed by the client'))
  }

  private start(exchange: Exchange): void {
    this.active = exchange
    this.reader.reset()
    let socket = this.socket
    if (socket === undefined) socket = this.open()
    else socket.ref()
    socket.write(exchange.request)
  }

  private open(): HttpSocket {
    const socket = this.connect(this.host, this.port)
    socket.setNoDelay(true)
    this.socket = socket
    this.socketError = undefined
    socket.on('data', (data: Buffer) => this.onData(socket, data))
    socket.on('error', (error: Error) => {
      if (socket === this.socket) this.socketError = error
    })
    socket.on('close', () => this.onClose(socket))
    return socket
  }

  private onData(socket: HttpSocket, data: Buffer): void {
    if (socket !== this.socket) return
    if (this.active === undefined) {
      // Bytes nobody asked for: the framing of this connection can no longer be trusted.
      this.drop(socket)
      return
    }
    let reply: HttpReply | undefined
    try {
      reply = this.reader.push(data)
    } catch (error) {
      this.drop(socket)
      this.failActive(error as Error)
      return
    }
    if (reply === undefined) return
    if (!reply.keepAlive || this.reader.rest.length > 0) this.drop(socket)
    this.complete(reply)
  }

  private onClose(socket: HttpSocket): void {
    if (socket !== this.socket) return
    this.socket = undefined
    if (this.active === undefined) return
    let reply: HttpReply
    try {
      reply = this.reader.end()
    } catch (error) {
      this.failActive(this.socketError ?? (error as Error))
      return
    }
    this.complete(reply)
  }

  private complete(reply: HttpReply): void {
    const exchange = this.active!
    this.active = undefined
    this.next()
    exchange.resolve(reply)
  }

  private failActive(error: Error): void {
    const exchange = this.active
    if (exchange === undefined) return
    this.active = undefined
    this.next()
    exchange.reject(error)
  }

  /** Sends the next waiting request, or lets the idle socket stop holding the process. */
  private next(): void {
    const waiting = this.queue.shift()
    if (waiting !== undefined) this.start(waiting)
    else this.socket?.unref()
  }

  private drop(socket: HttpSocket): void {
    if (socket === this.socket) this.socket = undefined
    socket.destroy()
  }
}
