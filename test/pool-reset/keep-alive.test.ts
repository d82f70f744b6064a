import { Agent, request as httpRequest } from 'node:http'
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm'
import middy from '@middy/core'
import { Agent as UndiciAgent, request as undiciRequest } from 'undici'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { poolReset } from '../../middlewares/pool-reset/index.js'
import { type FrozenNetwork, startFrozenNetwork } from './fixtures/frozen-network.js'
import { type LocalHttpServer, startHttpServer } from './fixtures/http-server.js'
import {
  codes,
  freshLifecycle,
  invokeRepeatedly,
  lambdaContext,
  snapshotAndRestore,
} from './fixtures/lifecycle.js'

let server: LocalHttpServer
let network: FrozenNetwork
const cleanups: (() => Promise<unknown> | unknown)[] = []

beforeEach(async () => {
  freshLifecycle()
  server = await startHttpServer((request, body, response) => {
    if (request.headers['x-amz-target'] === 'AmazonSSM.GetParameter') {
      const { Name } = JSON.parse(body) as { Name: string }
      response.setHeader('content-type', 'application/x-amz-json-1.1')
      response.end(JSON.stringify({ Parameter: { Name, Value: 'v1', Type: 'String' } }))
      return
    }
    response.end('ok')
  })
  network = await startFrozenNetwork(server.port)
})

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  await network.close()
  await server.close()
  freshLifecycle()
})

/** The server drops the idle keep-alive sockets after 1 s while the process is frozen. */
const idleDrop = (ports: number[]) => server.whenClosed(ports)

function get(agent: Agent, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path: '/', agent }, (response) => {
      let body = ''
      response.setEncoding('utf8')
      response.on('data', (chunk: string) => {
        body += chunk
      })
      response.on('end', () => resolve(body))
    })
    req.on('error', reject)
    req.end()
  })
}

function heldSockets(agent: Agent): number {
  const count = (lists: NodeJS.ReadOnlyDict<unknown[]>) =>
    Object.values(lists).reduce((sum, list) => sum + (list?.length ?? 0), 0)
  return count(agent.sockets) + count(agent.freeSockets)
}

describe('http.Agent (C11)', () => {
  function setup(control: boolean) {
    const agent = new Agent({ keepAlive: true })
    cleanups.push(() => agent.destroy())
    const handler = middy(() => get(agent, network.port))
    if (!control) handler.use(poolReset({ resources: { api: agent } }))
    return { agent, handler }
  }

  it('holds zero sockets after before-snapshot; the request after restore succeeds', async () => {
    const { agent, handler } = setup(false)
    expect(await get(agent, network.port)).toBe('ok')
    expect(heldSockets(agent)).toBe(1)

    const cycle = await snapshotAndRestore(network, async (ports) => {
      expect(heldSockets(agent)).toBe(0)
      return idleDrop(ports)
    })

    expect(cycle.before.hooks).toMatchObject([
      { name: 'pool-reset:api', status: 'ok', details: { kind: 'http.Agent', closed: 1 } },
    ])
    expect(cycle.killed).toBe(0)
    const errors = await invokeRepeatedly(20, () => handler({}, lambdaContext))
    expect(errors).toEqual([])
    expect(network.resets).toBe(0)
  })

  it('control: without the middleware, the request after restore gets ECONNRESET', async () => {
    const { agent, handler } = setup(true)
    expect(await get(agent, network.port)).toBe('ok')

    const cycle = await snapshotAndRestore(network, idleDrop, { control: true })

    expect(cycle.killed).toBe(1)
    const errors = await invokeRepeatedly(20, () => handler({}, lambdaContext))
    expect(codes(errors)).toEqual(['ECONNRESET'])
  })
})

describe('undici Agent (C11)', () => {
  function setup(control: boolean) {
    const agent = new UndiciAgent()
    cleanups.push(() => agent.close())
    const url = `http://127.0.0.1:${network.port}/`
    const get = async () => (await undiciRequest(url, { dispatcher: agent })).body.text()
    const handler = middy(get)
    if (!control) handler.use(poolReset({ resources: { api: agent } }))
    return { agent, get, handler }
  }

  it('closes its connection before the snapshot; the request after restore succeeds', async () => {
    const { agent, get, handler } = setup(false)
    expect(await get()).toBe('ok')

    const cycle = await snapshotAndRestore(network, async (ports) => {
      expect(agent.stats).toEqual({})
      return idleDrop(ports)
    })

    expect(cycle.before.hooks).toMatchObject([
      { name: 'pool-reset:api', status: 'ok', details: { kind: 'undici.Agent', closed: 1 } },
    ])
    expect(cycle.killed).toBe(0)
    const errors = await invokeRepeatedly(20, () => handler({}, lambdaContext))
    expect(errors).toEqual([])
    expect(network.resets).toBe(0)
  })

  it('control: without the middleware, the request after restore fails', async () => {
    const { get, handler } = setup(true)
    expect(await get()).toBe('ok')

    const cycle = await snapshotAndRestore(network, idleDrop, { control: true })

    expect(cycle.killed).toBe(1)
    const errors = await invokeRepeatedly(20, () => handler({}, lambdaContext))
    expect(codes(errors)).toEqual(['ECONNRESET'])
  })
})

describe('AWS SDK v3 client (C11)', () => {
  function setup(control: boolean) {
    const ssm = new SSMClient({
      endpoint: `http://127.0.0.1:${network.port}`,
      region: 'us-east-1',
      credentials: { accessKeyId: 'AKIDLOCALTEST', secretAccessKey: 'local-test-secret' },
      maxAttempts: 1,
    })
    cleanups.push(() => ssm.destroy())
    const get = async () =>
      (await ssm.send(new GetParameterCommand({ Name: 'greeting' }))).Parameter?.Value
    const handler = middy(get)
    if (!control) handler.use(poolReset({ resources: { ssm } }))
    return { ssm, get, handler }
  }

  it('destroys its sockets before the snapshot; the call after restore succeeds', async () => {
    const { get, handler } = setup(false)
    expect(await get()).toBe('v1')

    const cycle = await snapshotAndRestore(network, idleDrop)

    expect(cycle.before.hooks).toMatchObject([
      { name: 'pool-reset:ssm', status: 'ok', details: { kind: 'aws-sdk:SSMClient', closed: 1 } },
    ])
    expect(cycle.killed).toBe(0)
    const errors = await invokeRepeatedly(20, () => handler({}, lambdaContext))
    expect(errors).toEqual([])
    expect(network.resets).toBe(0)
  })

  it('control: without the middleware, the call after restore fails', async () => {
    const { get, handler } = setup(true)
    expect(await get()).toBe('v1')

    const cycle = await snapshotAndRestore(network, idleDrop, { control: true })

    expect(cycle.killed).toBe(1)
    const errors = await invokeRepeatedly(20, () => handler({}, lambdaContext))
    expect(errors.map(String)).toEqual(['TimeoutError: read ECONNRESET'])
  })
})
