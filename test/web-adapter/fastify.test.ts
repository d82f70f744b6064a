import Fastify, { type FastifyInstance, type FastifyPluginAsync } from 'fastify'
import { afterEach, describe, expect, it } from 'vitest'
import { snapStartFastify } from '../../middlewares/web-adapter/index.js'
import { registerResource } from '../../src/index.js'
import { deferred } from '../core/helpers.js'
import {
  AFTER,
  BEFORE,
  okReport,
  pool,
  type Send,
  sender,
  useAdapterEnvironment,
} from './helpers.js'

useAdapterEnvironment()

const apps: FastifyInstance[] = []
afterEach(async () => {
  for (const app of apps.splice(0)) {
    app.server.closeAllConnections()
    await app.close()
  }
})

const JSON_HEADERS = { 'content-type': 'application/json' }

/** A new Fastify 5 instance, closed after the test. */
function fastify(): FastifyInstance {
  const app = Fastify()
  apps.push(app)
  return app
}

async function serve(app: FastifyInstance): Promise<Send> {
  await app.listen({ port: 0, host: '127.0.0.1' })
  return sender(app.server)
}

/**
 * Routes that answer with what they saw: `/orders` on the root context, `/api/items` in an
 * encapsulated child context with its own `onRequest` hook. `seen` records each request the
 * routes got.
 */
function routes(app: FastifyInstance, seen: string[]): void {
  app.get('/orders', async (request) => {
    seen.push(`GET ${request.url}`)
    return { query: request.query }
  })
  app.post('/orders', async (request, reply) => {
    seen.push(`POST ${request.url}`)
    return reply.code(201).send({ received: request.body })
  })
  app.register(
    async (child) => {
      child.addHook('onRequest', async (request) => {
        seen.push(`child hook ${request.url}`)
      })
      child.get('/items', async (request) => {
        seen.push(`GET ${request.url}`)
        return { items: [] }
      })
    },
    { prefix: '/api' },
  )
}

/** Root routes, the plugin registered at the root, then the child context. */
async function orders(seen: string[], options = {}): Promise<Send> {
  const app = fastify()
  await app.register(snapStartFastify, options)
  routes(app, seen)
  return serve(app)
}

async function appTraffic(send: Send) {
  const answers = [
    await send('GET', '/orders?page=2'),
    await send('POST', '/orders', { headers: JSON_HEADERS, body: '{"sku":"A-1"}' }),
    await send('GET', '/api/items'),
    await send('GET', BEFORE),
  ]
  return answers.map(({ status, body }) => [status, body])
}

const APP_ANSWERS = [
  [200, { query: { page: '2' } }],
  [201, { received: { sku: 'A-1' } }],
  [200, { items: [] }],
  [404, { statusCode: 404, error: 'Not Found', message: `Route GET:${BEFORE} not found` }],
]

describe('snapStartFastify in a real Fastify 5 instance over HTTP', () => {
  it('runs both phases in order on the adapter POSTs, answering 200 with the report', async () => {
    const calls: string[] = []
    pool(calls)
    process.env.SNAPSTART_RESTORE_BUDGET_MS = '2500'
    const send = await orders([])

    const before = await send('POST', BEFORE)
    const after = await send('POST', AFTER)

    expect(calls).toEqual(['close', 'reopen'])
    expect(before).toEqual({
      status: 200,
      type: 'application/json; charset=utf-8',
      body: okReport('beforeSnapshot', 130_000),
    })
    expect(after).toEqual({
      status: 200,
      type: 'application/json; charset=utf-8',
      body: okReport('afterRestore', 2500),
    })
  })

  it('answers the adapter POST whatever its body: none, empty JSON or {}', async () => {
    const send = await orders([])

    const empty = await send('POST', BEFORE, { headers: JSON_HEADERS })
    const braces = await send('POST', AFTER, { headers: JSON_HEADERS, body: '{}' })

    expect([empty.status, empty.body.phase]).toEqual([200, 'beforeSnapshot'])
    expect([braces.status, braces.body.phase]).toEqual([200, 'afterRestore'])
  })

  it('passes routes of every context through untouched before, between and after', async () => {
    const seen: string[] = []
    const send = await orders(seen)

    const first = await appTraffic(send)
    await send('POST', BEFORE)
    const between = await appTraffic(send)
    await send('POST', AFTER)
    const last = await appTraffic(send)

    expect([first, between, last]).toEqual([APP_ANSWERS, APP_ANSWERS, APP_ANSWERS])
    expect(seen.slice(0, 4)).toEqual([
      'GET /orders?page=2',
      'POST /orders',
      'child hook /api/items',
      'GET /api/items',
    ])
    expect(seen).toHaveLength(12)
  })

  it('answers 500 with a body that names the hook but carries no error message', async () => {
    registerResource({
      name: 'vault',
      beforeSnapshot: () => undefined,
      afterRestore() {
        throw new Error('token sk-secret-42 rejected')
      },
    })
    const seen: string[] = []
    const send = await orders(seen)
    await send('POST', BEFORE)

    const failed = await send('POST', AFTER, { headers: JSON_HEADERS })
    const later = [await send('GET', '/orders'), await send('GET', '/api/items')]

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
    expect(later.map(({ status, body }) => [status, body])).toEqual([
      [503, { errorType: 'SnapStartPhaseError', phase: 'afterRestore' }],
      [503, { errorType: 'SnapStartPhaseError', phase: 'afterRestore' }],
    ])
    expect(seen).toEqual([])
    expect(JSON.stringify([failed, later])).not.toContain('sk-secret-42')
  })

  it('answers 500 to a failed before-snapshot phase, and 503 to the app after it', async () => {
    const calls: string[] = []
    pool(calls)
    registerResource({
      name: 'cache',
      beforeSnapshot() {
        throw new Error('password=hunter2 refused')
      },
    })
    const seen: string[] = []
    const send = await orders(seen)

    const failed = await send('POST', BEFORE)
    const later = await send('GET', '/orders')

    expect([failed.status, failed.body]).toEqual([
      500,
      {
        errorType: 'SnapStartPhaseError',
        phase: 'beforeSnapshot',
        hook: 'cache',
        status: 'failed',
        hooks: [
          { name: 'cache', status: 'failed' },
          { name: 'db', status: 'skipped' },
        ],
      },
    ])
    expect([later.status, later.body]).toEqual([
      503,
      { errorType: 'SnapStartPhaseError', phase: 'beforeSnapshot' },
    ])
    expect(seen).toEqual([])
    expect(JSON.stringify([failed, later])).not.toContain('hunter2')
  })

  it('holds a request arriving during the after-restore phase until the phase ends', async () => {
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
    const app = fastify()
    app.addHook('onRequest', async (request) => {
      if (request.url === '/api/items') arrived.resolve()
    })
    await app.register(snapStartFastify)
    routes(app, events)
    const send = await serve(app)
    await send('POST', BEFORE)

    const phase = send('POST', AFTER)
    await started.promise
    const held = send('GET', '/api/items')
    await arrived.promise
    const second = await send('POST', AFTER)
    expect([second.status, second.body]).toEqual([
      409,
      { errorType: 'SnapStartStateError', errorMessage: 'the afterRestore phase is running' },
    ])
    expect(events).toEqual(['phase started'])
    gate.resolve()

    expect((await held).body).toEqual({ items: [] })
    expect((await phase).status).toBe(200)
    expect(events).toEqual([
      'phase started',
      'phase ended',
      'child hook /api/items',
      'GET /api/items',
    ])
  })

  it('answers 409 to calls out of order and runs nothing', async () => {
    const calls: string[] = []
    pool(calls)
    const send = await orders([])

    const early = await send('POST', AFTER, { headers: JSON_HEADERS })
    await send('POST', BEFORE)
    const again = await send('POST', BEFORE, { headers: JSON_HEADERS, body: '{}' })
    await send('POST', AFTER)
    const afterAgain = await send('POST', AFTER)

    expect(calls).toEqual(['close', 'reopen'])
    expect([early, again, afterAgain].map(({ status, body }) => [status, body])).toEqual([
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

  it('answers 409 outside snap-start mode and runs nothing', async () => {
    const calls: string[] = []
    pool(calls)
    process.env.AWS_LAMBDA_INITIALIZATION_TYPE = 'on-demand'
    const send = await orders([])

    const answers = [await send('POST', BEFORE), await send('POST', AFTER)]

    const refusal = {
      errorType: 'SnapStartStateError',
      errorMessage: 'SnapStart phases run only when AWS_LAMBDA_INITIALIZATION_TYPE is snap-start',
    }
    expect(answers.map(({ status, body }) => [status, body])).toEqual([
      [409, refusal],
      [409, refusal],
    ])
    expect(calls).toEqual([])
  })

  it('takes the paths from its register options over the environment', async () => {
    const seen: string[] = []
    const send = await orders(seen, { beforeSnapshotPath: '/hooks/before' })

    const ours = await send('POST', '/hooks/before')
    const envPath = await send('POST', BEFORE)

    expect(ours.body.phase).toBe('beforeSnapshot')
    expect(envPath.status).toBe(404)
  })
})

describe('snapStartFastify and encapsulation', () => {
  it('covers routes and contexts declared before it, after their own onRequest hooks', async () => {
    const seen: string[] = []
    const app = fastify()
    routes(app, seen)
    app.register(snapStartFastify)
    const send = await serve(app)
    registerResource({
      name: 'vault',
      afterRestore() {
        throw new Error('down')
      },
    })
    await send('POST', BEFORE)
    await send('POST', AFTER)

    const later = [await send('GET', '/orders'), await send('GET', '/api/items')]

    expect(later.map(({ status }) => status)).toEqual([503, 503])
    expect(seen).toEqual(['child hook /api/items'])
  })

  it('covers the whole instance when registered through a non-encapsulated plugin', async () => {
    const calls: string[] = []
    pool(calls)
    const setup: FastifyPluginAsync = async (instance) => {
      await instance.register(snapStartFastify)
    }
    Object.assign(setup, { [Symbol.for('skip-override')]: true })
    const app = fastify()
    await app.register(setup)
    routes(app, [])
    const send = await serve(app)

    const before = await send('POST', BEFORE)

    expect([before.status, calls]).toEqual([200, ['close']])
  })

  it('refuses to be registered inside an encapsulated context', async () => {
    const app = fastify()
    app.register(async (child) => {
      await child.register(snapStartFastify)
    })

    await expect(app.ready()).rejects.toThrow(
      new TypeError(
        'snapStartFastify: register it on the root instance (or through a plugin that is ' +
          'not encapsulated): inside an encapsulated context its hook would miss the ' +
          "adapter's calls and the other contexts' routes",
      ),
    )
  })

  it('rejects unknown options and ignores the register options Fastify reads', async () => {
    const typo = fastify()
    typo.register(snapStartFastify, { afterRestorPath: '/x' } as never)
    const prefixed = fastify()
    prefixed.register(snapStartFastify, { prefix: '/api', logLevel: 'warn' })

    await expect(typo.ready()).rejects.toThrow(
      'snapStartFastify: unknown option "afterRestorPath"; known options: beforeSnapshotPath, ' +
        'afterRestorePath',
    )
    await expect(prefixed.ready()).resolves.toBe(prefixed)
  })
})
