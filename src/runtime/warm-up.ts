import { type NextInvocation, RuntimeApiClient } from './client.js'
import type { HttpSocket } from './http-connection.js'

/**
 * How many invocations the warm-up runs. The first compiles the runtime's code; V8 then
 * needs a few more before it optimizes it (its baseline and optimizing compilers start
 * after a function has run several times), which a restored process would otherwise do
 * during its first real invocations. 20 in-memory invocations cost about 2 ms of init.
 */
export const WARM_UP_INVOCATIONS = 20

/** Answers one invocation with the runtime's own code, posting through `client`. */
export type AnswerInvocation = (client: RuntimeApiClient, next: NextInvocation) => Promise<void>

// Fixed values: the warm-up draws no random numbers and reads no clock but for the deadline.
const REQUEST_ID = '00000000-0000-4000-8000-000000000000'
const TRACE_ID = 'Root=1-00000000-000000000000000000000000;Parent=0000000000000000;Sampled=0'
const FUNCTION_ARN = 'arn:aws:lambda:us-east-1:000000000000:function:snapstart-warm-up'
const DATE = 'Thu, 01 Jan 1970 00:00:00 GMT'
const EVENT = '{}'
const DEADLINE_MS = 3_000

/** The Runtime API's answer to a response post. */
const ACCEPTED = reply('202 Accepted', '', '{"status":"OK"}')
const NOT_FOUND = reply('404 Not Found', '', '')

/**
 * Runs `answer`, the runtime's own code for one invocation, on `WARM_UP_INVOCATIONS`
 * invocations read by a `RuntimeApiClient` for `endpoint` whose socket lives in memory: it
 * answers `invocation/next` with a canned event and a response post with `202`, and sends
 * nothing anywhere. So the reply reader, the context, the serialization and the request
 * bytes are compiled before the snapshot rather than on the first invocation after it.
 *
 * `_X_AMZN_TRACE_ID`, which the invocation path sets, is given back its value afterwards.
 * Rejects when `answer` does; the canned replies give it no reason to.
 */
export async function warmUpInvocationPath(
  endpoint: string,
  answer: AnswerInvocation,
): Promise<void> {
  const env = process.env
  const traceId = env._X_AMZN_TRACE_ID
  const client = new RuntimeApiClient(endpoint, () => new MemorySocket(cannedReply))
  try {
    for (let count = 0; count < WARM_UP_INVOCATIONS; count++) {
      await answer(client, await client.nextInvocation())
    }
  } finally {
    client.close()
    if (traceId === undefined) delete env._X_AMZN_TRACE_ID
    else env._X_AMZN_TRACE_ID = traceId
  }
}

/**
 * A socket that lives in memory: each request written to it is answered with the bytes
 * `answer` gives, in a later microtask, as a real socket's data comes after the write.
 */
class MemorySocket implements HttpSocket {
  private onData: ((data: Buffer) => void) | undefined

  constructor(private readonly answer: (request: string) => Buffer) {}

  write(request: string): boolean {
    const data = this.answer(request)
    queueMicrotask(() => this.onData?.(data))
    return true
  }

  on(event: 'data' | 'error' | 'close', listener: (argument: never) => void): this {
    // Nothing can fail in memory and nothing closes it: only data is ever delivered.
    if (event === 'data') this.onData = listener as (data: Buffer) => void
    return this
  }

  setNoDelay(): this {
    return this
  }

  ref(): this {
    return this
  }

  unref(): this {
    return this
  }

  destroy(): this {
    this.onData = undefined
    return this
  }
}

/** The reply the Runtime API would give to `request`, as the bytes of one HTTP reply. */
function cannedReply(request: string): Buffer {
  if (request.startsWith('GET ') && request.includes('/invocation/next ')) return nextReply()
  if (request.startsWith('POST ') && request.includes('/response ')) return ACCEPTED
  return NOT_FOUND
}

/** An `invocation/next` reply with the headers Lambda sends for a plain invocation. */
function nextReply(): Buffer {
  const headers =
    `Lambda-Runtime-Aws-Request-Id: ${REQUEST_ID}\r\n` +
    `Lambda-Runtime-Deadline-Ms: ${Date.now() + DEADLINE_MS}\r\n` +
    `Lambda-Runtime-Invoked-Function-Arn: ${FUNCTION_ARN}\r\n` +
    `Lambda-Runtime-Trace-Id: ${TRACE_ID}\r\n`
  return reply('200 OK', headers, EVENT)
}

function reply(status: string, headers: string, body: string): Buffer {
  return Buffer.from(
    `HTTP/1.1 ${status}\r\nContent-Type: application/json\r\n${headers}Date: ${DATE}\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    'utf8',
  )
}
