import middy from '@middy/core'
import secretsManager from '@middy/secrets-manager'
import ssm from '@middy/ssm'
import { clearCache as clearUtil7Cache } from '@middy/util'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { secretRefresh } from '../../middlewares/secret-refresh/index.js'
import { findMiddyCaches } from '../../middlewares/secret-refresh/middy-cache.js'
import { runAfterRestore, runBeforeSnapshot } from '../../src/index.js'
import {
  type Harness,
  lambdaContext,
  type SecretContext,
  startHarness,
} from '../support/secrets-harness.js'

const VALUES = ['ssm-k1-aa', 'ssm-k2-bb', 'sm-p1-cc', 'sm-p2-dd']

let h: Harness

beforeEach(async () => {
  h = await startHarness()
  clearUtil7Cache()
  for (const clear of await findMiddyCaches()) clear()
})
afterEach(async () => {
  const output = h.output()
  const reports = JSON.stringify(h.reports)
  await h.stop()
  for (const value of VALUES) {
    expect(output).not.toContain(value)
    expect(reports).not.toContain(value)
  }
})

/**
 * A handler using `@middy/ssm` 7 and `@middy/secrets-manager` 6 (which brings its own
 * `@middy/util` 6), both caching forever, as they do by default.
 */
function middyHandler(clearMiddyCache: boolean) {
  const awsClientOptions = h.clientOptions()
  return middy(async (_event: unknown, context: SecretContext) => [context.apiKey, context.db])
    .use(
      ssm({
        fetchData: { apiKey: '/app/api-key' },
        setToContext: true,
        awsClientOptions: awsClientOptions.ssm,
      }),
    )
    .use(
      secretsManager({
        fetchData: { db: 'prod/db' },
        setToContext: true,
        awsClientOptions: awsClientOptions.secretsManager,
      }),
    )
    .use(secretRefresh({ secrets: { unrelated: () => 'x' }, clearMiddyCache }))
}

describe('clearMiddyCache', () => {
  it('finds both copies of @middy/util installed here (7 and 6), no cache key named', async () => {
    const caches = await findMiddyCaches()

    expect(caches).toHaveLength(2)
    expect(caches).toContain(clearUtil7Cache)
  })

  it('true: after the restore @middy/ssm 7 and @middy/secrets-manager 6 fetch again', async () => {
    h.aws.putParameter('/app/api-key', 'ssm-k1-aa')
    h.aws.putSecret('prod/db', 'sm-p1-cc')
    const handler = middyHandler(true)

    const atInit = await handler({}, lambdaContext() as never)
    await runBeforeSnapshot()
    h.aws.putParameter('/app/api-key', 'ssm-k2-bb')
    h.aws.putSecret('prod/db', 'sm-p2-dd')
    const mark = h.aws.requests.length
    const report = await runAfterRestore()
    const afterRestore = await handler({}, lambdaContext() as never)
    const next = await handler({}, lambdaContext() as never)

    expect(atInit).toEqual(['ssm-k1-aa', 'sm-p1-cc'])
    expect(afterRestore).toEqual(['ssm-k2-bb', 'sm-p2-dd'])
    expect(next).toEqual(['ssm-k2-bb', 'sm-p2-dd'])
    expect(report.hooks[0]!.details).toMatchObject({ middyCachesCleared: 2 })
    expect(
      h.aws
        .since(mark)
        .map((request) => request.target)
        .sort(),
    ).toEqual(['AmazonSSM.GetParameters', 'secretsmanager.GetSecretValue'])
  })

  it('false (the control): both keep serving the values cached before the snapshot', async () => {
    h.aws.putParameter('/app/api-key', 'ssm-k1-aa')
    h.aws.putSecret('prod/db', 'sm-p1-cc')
    const handler = middyHandler(false)

    await handler({}, lambdaContext() as never)
    await runBeforeSnapshot()
    h.aws.putParameter('/app/api-key', 'ssm-k2-bb')
    h.aws.putSecret('prod/db', 'sm-p2-dd')
    const mark = h.aws.requests.length
    await runAfterRestore()
    const afterRestore = await handler({}, lambdaContext() as never)

    expect(afterRestore).toEqual(['ssm-k1-aa', 'sm-p1-cc'])
    expect(h.aws.since(mark)).toEqual([])
  })

  it('an array: calls exactly the clearCache functions given, for bundles', async () => {
    const calls: string[] = []
    secretRefresh({
      secrets: { unrelated: () => 'x' },
      clearMiddyCache: [() => calls.push('bundled'), () => calls.push('other')],
    })
    await runBeforeSnapshot()

    const report = await runAfterRestore()

    expect(calls).toEqual(['bundled', 'other'])
    expect(report.hooks[0]!.details).toMatchObject({ middyCachesCleared: 2 })
  })
})
