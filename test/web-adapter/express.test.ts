import http from 'node:http'
import express from 'express'
import { afterEach, describe, expect, it } from 'vitest'
import { snapStartExpress } from '../../middlewares/web-adapter/index.js'
import { registerResource } from '../../src/index.js'
import { deferred } from '../core/helpers.js'
import {
  AFTER,
  BEFORE,
  close,
  listen,
  okReport,
  pool,
  type Send,
  useAdapterEnvironment,
} from './helpers.js'

useAdapterEnvironment()

const servers: http.Server[] = []
afterEach(async () => {
  for (const server of servers.splice(0)) await close(server)
})

/**
 * A real Express 5 app with `snapStartExpress` mounted first, then a JSON body parser and
 * routes that answer with what they saw. `seen` records each request the routes got.
 */
function orders(seen: string[], middleware = snapStartExpress()) {
  const app = express()
  app.use(middleware)
  app.use(express.json())
  app.get('/orders', (req, res) => {
    seen.push(`GET ${req.originalUrl}`)
    res.json({ query: req.query })
  })
  app.post('/orders', (req, res) => {
    seen.push(`POST ${req.originalUrl}`)
    res.status(201).json({ received: req.body })
  })
  app.get(BEFORE, (req, res) => {
    seen.push(`GET ${req.originalUrl}`)
    res.type('text/plain').send('the app answers GET')
  })
  app.get('/boom', async () => {
    throw new Error('route failed')
  })
  app.use(
    (error: Error, _req: express.Request, res: express.Response, _next: express.NextFunction) =>
      void res.status(500).type('text/plain').send(`app error handler: ${error.message}`),
  )
  return app
}

async function serve(app: http.RequestListener): Promise<Send> {
  const server = http.createServer(app)
  servers.push(server)
  return listen(server)
}

/** The same three app requests, with what the app answers to each. */
async function appTraffic(send: Send) {
  const answers = [
    await send('GET', '/orders?page=2'),
    await send('POST', '/orders', {
      headers: { 'content-type': 'application/json' },
      body: '{"sku":"A-1"}',
    }),
    await send('GET', BEFORE),
  ]
  return answers.map(({ status, body }) => [status, body])
}

const APP_ANSWERS = [
  [200, { query: { page: '2' } }],
  [201, { received: { sku: 'A-1' } }],
  [200, 'the app answers GET'],
]

describe('snapStartExpress in a real Express 5 app over HTTP', () => {
  it('runs both phases in order on the adapter POSTs, answering 200 with the report', async () => {
    const calls: string[] = []
    pool(calls)
    process.env.SNAPSTART_RESTORE_BUDGET_MS = '2500'
    const send = await serve(orders([]))

    const before = await send('POST', BEFORE)
    const after = await send('POST', AFTER, {
      headers: { 'content-type': 'application/json' },
      body: '{}',
    })

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

  it('passes app routes through untouched before, between and after the phases', async () => {
    const seen: string[] = []
    const send = await serve(orders(seen))

    const first = await appTraffic(send)
    await send('POST', BEFORE)
    const between = await appTraffic(send)
    await send('POST', AFTER)
    const last = await appTraffic(send)

    expect([first, between, last]).toEqual([APP_ANSWERS, APP_ANSWERS, APP_ANSWERS])
    expect(seen).toHaveLength(9)
    expect(seen.slice(0, 3)).toEqual(['GET /orders?page=2', 'POST /orders', `GET ${BEFORE}`])
  })

  it("leaves the app's own async errors to the app's error handler", async () => {
    const send = await serve(orders([]))

    const answer = await send('GET', '/boom')

    expect([answer.status, answer.body]).toEqual([500, 'app error handler: route failed'])
  })

  it('answers 500 with a body that names the hook but carries no error message', async () => {
    registerResource({
      name: 'vault',
      afterRestore() {
        throw new Error('token sk-secret-42 rejected')
      },
    })
    const seen: string[] = []
    const send = await serve(orders(seen))
    await send('POST', BEFORE)

    const failed = await send('POST', AFTER)
    const later = [await send('GET', '/orders'), await send('POST', '/orders')]

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
    const app = express()
    app.use((req, _res, next) => {
      if (req.url === '/orders') arrived.resolve()
      next()
    })
    app.use(snapStartExpress())
    app.get('/orders', (_req, res) => {
      events.push('route')
      res.json({ orders: [] })
    })
    const send = await serve(app)
    await send('POST', BEFORE)

    const phase = send('POST', AFTER)
    await started.promise
    const held = send('GET', '/orders')
    await arrived.promise
    const second = await send('POST', AFTER)
    expect([second.status, second.body]).toEqual([
      409,
      { errorType: 'SnapStartStateError', errorMessage: 'the afterRestore phase is running' },
    ])
    expect(events).toEqual(['phase started'])
    gate.resolve()

    expect((await held).body).toEqual({ orders: [] })
    expect((await phase).status).toBe(200)
    expect(events).toEqual(['phase started', 'phase ended', 'route'])
  })

  it('answers 409 to calls out of order and runs nothing', async () => {
    const calls: string[] = []
    pool(calls)
    const send = await serve(orders([]))

    const early = await send('POST', AFTER)
    await send('POST', BEFORE)
    const again = await send('POST', BEFORE)
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
    const send = await serve(orders([]))

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

  it('takes the paths from its options over the environment', async () => {
    const seen: string[] = []
    const send = await serve(
      orders(seen, snapStartExpress({ beforeSnapshotPath: '/hooks/before' })),
    )

    const ours = await send('POST', '/hooks/before')
    const envPath = await send('POST', BEFORE)

    expect(ours.body.phase).toBe('beforeSnapshot')
    expect(envPath.status).toBe(404)
    expect(seen).toEqual([])
  })

  it('matches the whole path when mounted under a prefix', async () => {
    const calls: string[] = []
    pool(calls)
    const app = express()
    app.use('/internal', snapStartExpress({ beforeSnapshotPath: '/internal/before' }))
    const send = await serve(app)

    const answer = await send('POST', '/internal/before')

    expect([answer.status, answer.body.phase, calls]).toEqual([200, 'beforeSnapshot', ['close']])
  })
})
