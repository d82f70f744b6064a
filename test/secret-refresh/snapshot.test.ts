import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager'
import middy from '@middy/core'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { secretRefresh } from '../../middlewares/secret-refresh/index.js'
import { runAfterRestore, runBeforeSnapshot } from '../../src/index.js'
import { watchUnhandled } from '../core/helpers.js'
import { startFakeCredentials } from '../support/secrets-credentials.js'
import { STATIC_CREDENTIALS } from '../support/secrets-env.js'
import {
  type Harness,
  lambdaContext,
  type SecretContext,
  startHarness,
} from '../support/secrets-harness.js'

const MINUTE = 60_000
const HOUR = 60 * MINUTE
/** An `X-Amz-Date` stamp. */
const STAMP = '\\d{8}T\\d{6}Z'
const VALUES = ['sk-init-4f1d', 'sk-restored-9c2e', 'db-v1-77aa', 'db-v2-88bb']

let h: Harness

afterEach(async () => {
  const output = h.output()
  const reports = JSON.stringify(h.reports)
  await h.stop()
  for (const value of VALUES) {
    expect(output).not.toContain(value)
    expect(reports).not.toContain(value)
  }
})

describe('the fake endpoint answers as AWS does', () => {
  beforeEach(async () => {
    h = await startHarness()
  })

  it('rejects a request frozen in flight for 10 minutes: "Signature expired"', async () => {
    h.aws.putSecret('prod/api', 'sk-init-4f1d')
    const client = new SecretsManagerClient({
      ...h.clientOptions().secretsManager,
      maxAttempts: 1,
    })
    const held = h.aws.hold()

    const sent = client.send(new GetSecretValueCommand({ SecretId: 'prod/api' }))
    await h.aws.arrived(1)
    h.advance(10 * MINUTE)
    held.release()

    await expect(sent).rejects.toMatchObject({
      name: 'InvalidSignatureException',
      message: expect.stringMatching(
        new RegExp(
          `^Signature expired: ${STAMP} is now earlier than ${STAMP} \\(${STAMP} - 5 min\\.\\)$`,
        ),
      ),
    })
    expect(h.aws.requests).toEqual([
      {
        target: 'secretsmanager.GetSecretValue',
        accessKeyId: STATIC_CREDENTIALS.accessKeyId,
        status: 400,
        errorType: 'InvalidSignatureException',
      },
    ])
    client.destroy()
  })
})

describe('C12: a fetch in flight at snapshot time', () => {
  beforeEach(async () => {
    h = await startHarness()
  })

  it('waits for the in-flight fetch; 10 minutes later one fetch, none refused', async () => {
    const unhandled = watchUnhandled()
    h.aws.putSecret('prod/api', 'sk-init-4f1d')
    const held = h.aws.hold()
    const handler = middy(async (_event: unknown, context: SecretContext) => context.apiKey).use(
      secretRefresh({
        secrets: { apiKey: { source: 'secretsManager', secretId: 'prod/api' } },
        awsClientOptions: h.clientOptions(),
      }),
    )
    await h.aws.arrived(1)

    const snapshot = runBeforeSnapshot().then((report) => ({
      report,
      processedWhenDone: h.aws.requests.length,
    }))
    held.release()
    const { report, processedWhenDone } = await snapshot

    expect(processedWhenDone).toBe(1)
    expect(report.hooks).toEqual([
      expect.objectContaining({
        name: 'secret-refresh(apiKey)',
        status: 'ok',
        details: { secrets: 1, fetched: 1, keptPrevious: 0, refresh: 'eager' },
      }),
    ])

    h.aws.putSecret('prod/api', 'sk-restored-9c2e')
    h.advance(10 * MINUTE)
    const mark = h.aws.requests.length
    await runAfterRestore()
    const seen = await handler({}, lambdaContext())

    expect(seen).toBe('sk-restored-9c2e')
    expect(h.aws.since(mark)).toEqual([
      {
        target: 'secretsmanager.GetSecretValue',
        accessKeyId: STATIC_CREDENTIALS.accessKeyId,
        status: 200,
      },
    ])
    expect(h.aws.requests.filter((request) => request.status !== 200)).toEqual([])
    expect(await unhandled.stop()).toEqual([])
  })
})

describe('C13: only container credentials', () => {
  it.each([
    ['expired by the restore (valid 1 hour)', HOUR],
    ['still valid at the restore (valid 12 hours)', 12 * HOUR],
  ])(
    'credentials %s are fetched anew once, and the handler sees v2',
    async (_label, lifetimeMs) => {
      let credentials: Awaited<ReturnType<typeof startFakeCredentials>> | undefined
      h = await startHarness({ acceptKey: (key) => credentials?.isValid(key) ?? false })
      credentials = await startFakeCredentials({ clock: h.clock, lifetimeMs })
      process.env.AWS_CONTAINER_CREDENTIALS_FULL_URI = credentials.url
      process.env.AWS_CONTAINER_AUTHORIZATION_TOKEN = credentials.token
      const unhandled = watchUnhandled()
      h.aws.putSecret('prod/db', 'db-v1-77aa')

      const handler = middy(async (_event: unknown, context: SecretContext) => context.db).use(
        secretRefresh({
          secrets: { db: { source: 'secretsManager', secretId: 'prod/db' } },
          awsClientOptions: h.clientOptions('chain'),
        }),
      )
      await runBeforeSnapshot()

      expect(credentials.fetches()).toBe(1)
      expect(h.aws.requests.map((request) => [request.accessKeyId, request.status])).toEqual([
        ['ASIATEST00000001', 200],
      ])

      h.aws.putSecret('prod/db', 'db-v2-88bb')
      h.advance(2 * HOUR)
      const mark = h.aws.requests.length
      await runAfterRestore()
      const seen = await handler({}, lambdaContext())

      expect(seen).toBe('db-v2-88bb')
      expect(credentials.fetches()).toBe(2)
      expect(h.aws.since(mark)).toEqual([
        { target: 'secretsmanager.GetSecretValue', accessKeyId: 'ASIATEST00000002', status: 200 },
      ])
      expect(await unhandled.stop()).toEqual([])
      await credentials.close()
    },
  )
})
