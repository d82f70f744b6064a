import { once } from 'node:events'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createClock, type FakeClock } from './secrets-clock.js'

/** How long a SigV4 signature stays valid on AWS, in milliseconds. */
const SIGNATURE_WINDOW_MS = 5 * 60_000

/** One request the fake endpoint answered. */
export interface SeenRequest {
  /** `X-Amz-Target`, for example `secretsmanager.GetSecretValue`. */
  target: string
  /** The access key id from the `Authorization` header. */
  accessKeyId: string | undefined
  /** The HTTP status answered. */
  status: number
  /** `__type` of the error answered, if any. */
  errorType?: string
}

export interface FakeAwsOptions {
  clock?: FakeClock
  /** Delay before each answer, in milliseconds (a latency, not a synchronisation). */
  latencyMs?: number
  /** Decides whether an access key id is valid; default: every key is. */
  acceptKey?: (accessKeyId: string) => boolean
}

/**
 * A local HTTP endpoint that speaks the AWS JSON 1.1 protocol of Secrets Manager
 * (`GetSecretValue`) and SSM (`GetParameter`, `GetParameters`). It checks each request's
 * `X-Amz-Date` against its own clock when it processes the request, as AWS does, and
 * answers `InvalidSignatureException` "Signature expired" to a request signed more than
 * 5 minutes earlier.
 */
export interface FakeAws {
  /** `http://127.0.0.1:<port>`, for the SDK clients' `endpoint`. */
  readonly url: string
  readonly clock: FakeClock
  /** Every request processed, in order. */
  readonly requests: SeenRequest[]
  /** Sets a secret's current version (`AWSCURRENT`); the former one becomes `AWSPREVIOUS`. */
  putSecret(name: string, value: string): void
  /** Sets a parameter's value. */
  putParameter(name: string, value: string): void
  /**
   * Holds every request arriving from now on until `release()` is called, as a process
   * frozen with the request still in its socket would. Their dates are checked on release.
   */
  hold(): { release(): void }
  /** Resolves once `count` requests have arrived (held or not) since the server started. */
  arrived(count: number): Promise<void>
  /** Requests processed since `mark`, a length of `requests` taken earlier. */
  since(mark: number): SeenRequest[]
  close(): Promise<void>
}

export async function startFakeAws(options: FakeAwsOptions = {}): Promise<FakeAws> {
  const clock = options.clock ?? createClock()
  const secrets = new Map<string, { current: string; previous?: string; version: number }>()
  const parameters = new Map<string, { value: string; version: number }>()
  const requests: SeenRequest[] = []
  let gate: Promise<void> | undefined
  let arrivals = 0
  const waiters: { count: number; resolve: () => void }[] = []

  const server: Server = createServer((req, res) => {
    arrivals++
    for (const waiter of waiters.filter((w) => w.count <= arrivals)) {
      waiters.splice(waiters.indexOf(waiter), 1)
      waiter.resolve()
    }
    void handle(req, res)
  })

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    if (gate !== undefined) await gate
    if (options.latencyMs) await new Promise((resolve) => setTimeout(resolve, options.latencyMs))

    const target = String(req.headers['x-amz-target'] ?? '')
    const accessKeyId = /Credential=([^/]+)\//.exec(String(req.headers.authorization))?.[1]
    const seen: SeenRequest = { target, accessKeyId, status: 200 }
    requests.push(seen)
    const reply = (status: number, body: Record<string, unknown>) => {
      seen.status = status
      if (typeof body.__type === 'string') seen.errorType = body.__type
      res.writeHead(status, {
        'content-type': 'application/x-amz-json-1.1',
        date: new Date(clock.now()).toUTCString(),
        'x-amzn-requestid': `req-${requests.length}`,
        ...(status >= 400 ? { 'x-amzn-errortype': `${body.__type}:` } : {}),
      })
      res.end(JSON.stringify(body))
    }

    const dateError = checkDate(String(req.headers['x-amz-date'] ?? ''), clock.now())
    if (dateError !== undefined) return reply(400, dateError)
    if (accessKeyId === undefined || !(options.acceptKey?.(accessKeyId) ?? true)) {
      return reply(400, {
        __type: 'UnrecognizedClientException',
        message: 'The security token included in the request is invalid.',
      })
    }

    let input: Record<string, any>
    try {
      input = JSON.parse(Buffer.concat(chunks).toString('utf8'))
    } catch {
      return reply(400, { __type: 'SerializationException', message: 'Malformed body' })
    }
    if (target === 'secretsmanager.GetSecretValue') return reply(...getSecretValue(input))
    if (target === 'AmazonSSM.GetParameter') return reply(...getParameter(input))
    if (target === 'AmazonSSM.GetParameters') return reply(200, getParameters(input))
    return reply(400, { __type: 'UnknownOperationException', message: `No ${target}` })
  }

  function getSecretValue(input: Record<string, any>): [number, Record<string, unknown>] {
    const name = String(input.SecretId).replace(/^arn:aws:secretsmanager:[^:]+:\d+:secret:/, '')
    const secret = secrets.get(name) ?? secrets.get(name.replace(/-[A-Za-z0-9]{6}$/, ''))
    const stage = input.VersionStage ?? 'AWSCURRENT'
    const value = stage === 'AWSCURRENT' ? secret?.current : secret?.previous
    if (secret === undefined || value === undefined || !/^AWS(CURRENT|PREVIOUS)$/.test(stage)) {
      return [
        400,
        {
          __type: 'ResourceNotFoundException',
          message: "Secrets Manager can't find the specified secret.",
        },
      ]
    }
    const version = stage === 'AWSCURRENT' ? secret.version : secret.version - 1
    return [
      200,
      {
        ARN: `arn:aws:secretsmanager:us-east-1:123456789012:secret:${name}-AbCdEf`,
        Name: name,
        VersionId: `v${version}`,
        SecretString: value,
        VersionStages: [stage],
        CreatedDate: clock.now() / 1000,
      },
    ]
  }

  function parameterOf(name: string, decrypt: boolean) {
    const parameter = parameters.get(name)
    if (parameter === undefined) return undefined
    return {
      Name: name,
      Type: 'SecureString',
      Value: decrypt ? parameter.value : `encrypted:${parameter.version}`,
      Version: parameter.version,
      ARN: `arn:aws:ssm:us-east-1:123456789012:parameter${name}`,
      DataType: 'text',
      LastModifiedDate: clock.now() / 1000,
    }
  }

  function getParameter(input: Record<string, any>): [number, Record<string, unknown>] {
    const parameter = parameterOf(String(input.Name), input.WithDecryption === true)
    if (parameter === undefined) return [400, { __type: 'ParameterNotFound' }]
    return [200, { Parameter: parameter }]
  }

  function getParameters(input: Record<string, any>): Record<string, unknown> {
    const names = (input.Names ?? []) as string[]
    const found = names.map((name) => parameterOf(name, input.WithDecryption === true))
    return {
      Parameters: found.filter((parameter) => parameter !== undefined),
      InvalidParameters: names.filter((_, index) => found[index] === undefined),
    }
  }

  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as AddressInfo

  return {
    url: `http://127.0.0.1:${port}`,
    clock,
    requests,
    putSecret(name, value) {
      const secret = secrets.get(name)
      secrets.set(name, {
        current: value,
        previous: secret?.current,
        version: (secret?.version ?? 0) + 1,
      })
    },
    putParameter(name, value) {
      parameters.set(name, { value, version: (parameters.get(name)?.version ?? 0) + 1 })
    },
    hold() {
      let release!: () => void
      gate = new Promise((resolve) => {
        release = resolve
      })
      return {
        release() {
          gate = undefined
          release()
        },
      }
    },
    arrived(count) {
      if (arrivals >= count) return Promise.resolve()
      return new Promise((resolve) => waiters.push({ count, resolve }))
    },
    since: (mark) => requests.slice(mark),
    async close() {
      server.closeAllConnections()
      server.close()
      await once(server, 'close')
    },
  }
}

/** AWS's answer to a request whose signature date is out of the 5-minute window, if it is. */
function checkDate(amzDate: string, nowMs: number): Record<string, unknown> | undefined {
  const match = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(amzDate)
  if (match === null) {
    return {
      __type: 'IncompleteSignatureException',
      message: 'Authorization header requires existence of either a X-Amz-Date or a Date header.',
    }
  }
  const [, y, mo, d, h, mi, s] = match.map(Number) as number[]
  const signedMs = Date.UTC(y!, mo! - 1, d!, h!, mi!, s!)
  if (nowMs - signedMs > SIGNATURE_WINDOW_MS) {
    return {
      __type: 'InvalidSignatureException',
      message:
        `Signature expired: ${amzDate} is now earlier than ` +
        `${basic(nowMs - SIGNATURE_WINDOW_MS)} (${basic(nowMs)} - 5 min.)`,
    }
  }
  if (signedMs - nowMs > SIGNATURE_WINDOW_MS) {
    return {
      __type: 'InvalidSignatureException',
      message:
        `Signature not yet current: ${amzDate} is still later than ` +
        `${basic(nowMs + SIGNATURE_WINDOW_MS)} (${basic(nowMs)} + 5 min.)`,
    }
  }
  return undefined
}

/** ISO 8601 basic format, as in `X-Amz-Date`. */
function basic(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '')
}
