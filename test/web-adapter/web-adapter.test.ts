import { spawnSync } from 'node:child_process'
import { once } from 'node:events'
import http, { type RequestListener } from 'node:http'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  type FastifyReplyLike,
  type FastifyRequestLike,
  snapStartExpress,
  snapStartFastify,
  snapStartRequestListener,
} from '../../middlewares/web-adapter/index.js'
import { InvalidConfigurationError, registerResource, reset } from '../../src/index.js'
import { captureLogs, deferred } from '../core/helpers.js'

const BEFORE = '/_snapstart/before-checkpoint'
const AFTER = '/_snapstart/after-restore'

let logs: ReturnType<typeof captureLogs>
const servers: http.Server[] = []
const saved = { ...process.env }

beforeEach(() => {
  reset()
  logs = captureLogs()
  process.env.AWS_LAMBDA_INITIALIZATION_TYPE = 'snap-start'
  process.env.AWS_LWA_SNAPSTART_BEFORE_CHECKPOINT_PATH = BEFORE
  process.env.AWS_LWA_SNAPSTART_AFTER_RESTORE_PATH = AFTER
  delete process.env.SNAPSTART_RESTORE_BUDGET_MS
})
afterEach(async () => {
  logs.restore()
  for (const server of servers.splice(0)) {
    server.closeAllConnections()
    server.close()
    await once(server, 'close')
  }
  process.env = { ...saved }
  reset()
})

/** Serves `listener` on 127.0.0.1 and returns a function sending one request to it. */
async function serve(listener: RequestListener) {
  const server = http.createServer(listener)
  servers.push(server)
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as AddressInfo
  return (method: string, path: string) =>
    new Promise<{ status: number; type: string | undefined; body: any }>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, method, path, agent: false }, (res) => {
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
      req.end()
    })
}

/** The app behind the wrapper: answers with what it saw, and records each request. */
function app(seen: string[]): RequestListener {
  return (req, res) => {
    seen.push(`${req.method} ${req.url}`)
    res.writeHead(200, { 'content-type': 'text/plain' })
    res.end(`app:${req.method} ${req.url}`)
  }
}

function pool(calls: string[]) {
  registerResource({
    name: 'db',
    beforeSnapshot: () => void calls.push('close'),
    afterRestore: () => void calls.push('reopen'),
  })
}

describe('snapStartRequestListener over real HTTP', () => {
  it('runs each phase on its POST and answers 200 with the phase report', async () => {
    const calls: string[] = []
    pool(calls)
    process.env.SNAPSTART_RESTORE_BUDGET_MS = '2500'
    const request = await serve(snapStartRequestListener(app([])))

    const before = await request('POST', BEFORE)
    const after = await request('POST', AFTER)

    expect(calls).toEqual(['close', 'reopen'])
    expect(before).toMatchObject({
      status: 200,
      type: 'application/json; charset=utf-8',
      body: { phase: 'beforeSnapshot', status: 'ok', budgetMs: 130000 },
    })
    expect(before.body.hooks).toEqual([
      { name: 'db', status: 'ok', durationMs: expect.any(Number) },
    ])
    expect(after.body).toMatchObject({ phase: 'afterRestore', status: 'ok', budgetMs: 2500 })
  })

  it('passes every other request to the app untouched, the hook paths with GET too', async () => {
    const seen: string[] = []
    const request = await serve(snapStartRequestListener(app(seen)))

    const answers = [
      await request('GET', '/orders?page=2'),
      await request('POST', '/orders'),
      await request('GET', BEFORE),
      await request('POST', `${BEFORE}/more`),
    ]

    expect(answers.map((answer) => [answer.status, answer.body])).toEqual([
      [200, 'app:GET /orders?page=2'],
      [200, 'app:POST /orders'],
      [200, `app:GET ${BEFORE}`],
      [200, `app:POST ${BEFORE}/more`],
    ])
    expect(seen).toHaveLength(4)
  })

  it('matches a hook path with a query string', async () => {
    const request = await serve(snapStartRequestListener(app([])))
    expect((await request('POST', `${BEFORE}?from=adapter`)).body.phase).toBe('beforeSnapshot')
  })

  it('runs each phase once and in order: other calls answer 409 and run nothing', async () => {
    const calls: string[] = []
    pool(calls)
    const request = await serve(snapStartRequestListener(app([])))

    const early = await request('POST', AFTER)
    await request('POST', BEFORE)
    const again = await request('POST', BEFORE)
    await request('POST', AFTER)
    const afterAgain = await request('POST', AFTER)

    expect(calls).toEqual(['close', 'reopen'])
    expect([early, again, afterAgain].map((answer) => [answer.status, answer.body])).toEqual([
      [
        409,
        {
          errorType: 'SnapStartStateError',
          errorMessage: 'the afterRestore phase runs only after the beforeSnapshot phase',
        },
      ],
      [
        409,
        {
          errorType: 'SnapStartStateError',
          errorMessage: 'the beforeSnapshot phase has already run',
        },
      ],
      [
        409,
        {
          errorType: 'SnapStartStateError',
          errorMessage: 'the afterRestore phase has already run',
        },
      ],
    ])
  })

  it('refuses the phases outside snap-start mode (outside callers)', async () => {
    const calls: string[] = []
    pool(calls)
    process.env.AWS_LAMBDA_INITIALIZATION_TYPE = 'on-demand'
    const request = await serve(snapStartRequestListener(app([])))

    const answer = await request('POST', BEFORE)

    expect(answer).toMatchObject({
      status: 409,
      body: {
        errorType: 'SnapStartStateError',
        errorMessage: 'SnapStart phases run only when AWS_LAMBDA_INITIALIZATION_TYPE is snap-start',
      },
    })
    expect(calls).toEqual([])
  })

  it('answers 500 with a body that names the hook but carries no error message', async () => {
    registerResource({
      name: 'vault',
      afterRestore() {
        throw new Error('token sk-secret-42 rejected')
      },
    })
    const seen: string[] = []
    const request = await serve(snapStartRequestListener(app(seen)))
    await request('POST', BEFORE)

    const failed = await request('POST', AFTER)
    const later = await request('GET', '/orders')

    expect(failed).toEqual({
      status: 500,
      type: 'application/json; charset=utf-8',
      body: {
        errorType: 'SnapStartPhaseError',
        phase: 'afterRestore',
        hook: 'vault',
        status: 'failed',
        hooks: [{ name: 'vault', status: 'failed' }],
      },
    })
    expect(later).toMatchObject({
      status: 503,
      body: { errorType: 'SnapStartPhaseError', phase: 'afterRestore' },
    })
    expect(seen).toEqual([])
    expect(JSON.stringify([failed, later])).not.toContain('sk-secret-42')
  })

  it('holds a request arriving during the after-restore phase until it ends', async () => {
    const started = deferred()
    const gate = deferred()
    const arrived = deferred()
    const events: string[] = []
    registerResource({
      name: 'slow',
      afterRestore: async () => {
        events.push('phase started')
        started.resolve()
        await gate.promise
        events.push('phase ended')
      },
    })
    const wrapped = snapStartRequestListener((req, res) => {
      events.push('app')
      app([])(req, res)
    })
    const request = await serve((req, res) => {
      if (req.url === '/orders') arrived.resolve()
      wrapped(req, res)
    })
    await request('POST', BEFORE)

    const phase = request('POST', AFTER)
    await started.promise
    const held = request('GET', '/orders')
    await arrived.promise
    const second = await request('POST', AFTER)
    expect(second.status).toBe(409)
    expect(events).toEqual(['phase started'])
    gate.resolve()

    expect((await held).body).toBe('app:GET /orders')
    expect((await phase).status).toBe(200)
    expect(events).toEqual(['phase started', 'phase ended', 'app'])
  })
})

describe('snapStartFastify: an onRequest hook, against the plugin interface', () => {
  type Hook = (request: FastifyRequestLike, reply: FastifyReplyLike) => Promise<unknown>

  async function register(options = {}) {
    const hooks: [string, Hook][] = []
    await snapStartFastify({ addHook: (name, hook) => hooks.push([name, hook]) }, options)
    return hooks
  }

  function reply() {
    const sent: unknown[] = []
    const self: FastifyReplyLike = {
      code(status) {
        sent.push(['code', status])
        return self
      },
      header(name, value) {
        sent.push(['header', name, value])
        return self
      },
      send(body) {
        sent.push(['send', JSON.parse(body)])
        return self
      },
    }
    return { self, sent }
  }

  it('is not encapsulated and adds one onRequest hook', async () => {
    const hooks = await register()
    expect((snapStartFastify as any)[Symbol.for('skip-override')]).toBe(true)
    expect(hooks.map(([name]) => name)).toEqual(['onRequest'])
  })

  it('replies to an adapter call and returns the reply; passes other requests on', async () => {
    const [[, hook]] = (await register({ prefix: '/api' })) as [[string, Hook]]
    const call = reply()
    const other = reply()

    const handled = await hook({ raw: { method: 'POST', url: BEFORE } }, call.self)
    const passed = await hook({ raw: { method: 'GET', url: '/orders' } }, other.self)

    expect(handled).toBe(call.self)
    expect(call.sent.slice(0, 2)).toEqual([
      ['code', 200],
      ['header', 'content-type', 'application/json; charset=utf-8'],
    ])
    expect(call.sent[2]).toEqual(['send', expect.objectContaining({ phase: 'beforeSnapshot' })])
    expect(passed).toBeUndefined()
    expect(other.sent).toEqual([])
  })
})

describe('options', () => {
  it('are checked when the integration is built', () => {
    const listener = app([])
    expect(() => snapStartRequestListener(listener, { path: '/x' } as never)).toThrow(
      'snapStartRequestListener: unknown option "path"; known options: beforeSnapshotPath, ' +
        'afterRestorePath',
    )
    expect(() => snapStartExpress({ afterRestorePath: 'after' })).toThrow(
      'snapStartExpress: "afterRestorePath" must be a path starting with "/"',
    )
    expect(() => snapStartRequestListener(listener, { afterRestorePath: BEFORE })).toThrow(
      'the before-snapshot and after-restore paths must differ',
    )
    expect(() => snapStartRequestListener('app' as never)).toThrow(
      'snapStartRequestListener: the listener must be a function (req, res)',
    )
  })
})

describe('the middy-snapstart/web-adapter entry', () => {
  it('exports the three integrations from the built package, ESM and CommonJS', () => {
    const script = (load: string) =>
      spawnSync(process.execPath, ['--input-type=module', '-e', load], {
        cwd: fileURLToPath(new URL('../../', import.meta.url)),
        encoding: 'utf8',
      }).stdout
    const names = 'Object.keys(m).sort().join(",")'
    const esm = script(
      `const m = await import('middy-snapstart/web-adapter'); console.log(${names})`,
    )
    const cjs = script(
      "import { createRequire } from 'node:module'; " +
        `const m = createRequire(process.cwd() + '/')('middy-snapstart/web-adapter'); ` +
        `console.log(${names})`,
    )
    const expected = 'snapStartExpress,snapStartFastify,snapStartRequestListener\n'
    expect([esm, cjs]).toEqual([expected, expected])
  })
})

describe('SNAPSTART_RESTORE_BUDGET_MS', () => {
  const message =
    'SNAPSTART_RESTORE_BUDGET_MS: expected a whole number of milliseconds from 1 to 900000, ' +
    'got "soon"'
  const fastify = { addHook() {} } as unknown as Parameters<typeof snapStartFastify>[0]

  it('is validated when each integration is built, before any phase runs', async () => {
    process.env.SNAPSTART_RESTORE_BUDGET_MS = 'soon'

    expect(() => snapStartRequestListener(() => {})).toThrow(
      expect.objectContaining({ name: 'Runtime.InvalidConfiguration', message }),
    )
    expect(() => snapStartExpress()).toThrow(
      expect.objectContaining({ name: 'Runtime.InvalidConfiguration', message }),
    )
    await expect(snapStartFastify(fastify)).rejects.toThrow(
      expect.objectContaining({ name: 'Runtime.InvalidConfiguration', message }),
    )
    await expect(snapStartFastify(fastify)).rejects.toBeInstanceOf(InvalidConfigurationError)
  })

  it('is read when the listener is built: a later change does not apply', async () => {
    process.env.SNAPSTART_RESTORE_BUDGET_MS = '2500'
    const request = await serve(snapStartRequestListener(app([])))
    process.env.SNAPSTART_RESTORE_BUDGET_MS = 'soon'

    await request('POST', BEFORE)
    const after = await request('POST', AFTER)

    expect(after).toMatchObject({ status: 200, body: { status: 'ok', budgetMs: 2500 } })
  })
})
