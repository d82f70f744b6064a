// Secrets that stay fresh across SnapStart restores. The values fetched during init land in
// the snapshot; a restore can happen hours later, after a rotation. secretRefresh() waits for
// the init fetches before the snapshot, fetches everything again right after the restore
// (with new SDK clients, so credentials are resolved anew), and clears @middy/ssm's cache.
//
// Needs @aws-sdk/client-secrets-manager and @aws-sdk/client-ssm (only the kinds you use).
// Run it through the emulator against real AWS, or point the clients at a local endpoint
// with awsClientOptions: { secretsManager: { endpoint }, ssm: { endpoint } }.
import middy from '@middy/core'
import ssm from '@middy/ssm'
import { snapStart } from 'middy-snapstart'
import { secretRefresh } from 'middy-snapstart/secret-refresh'

async function rotatingToken({ signal }) {
  const response = await fetch(`${process.env.TOKEN_SERVICE_URL}/token`, { signal })
  if (!response.ok) throw new Error(`token service answered ${response.status}`)
  return (await response.json()).token
}

export const handler = middy()
  .use(snapStart())
  .use(
    // An existing middy middleware: cached forever by default, cleared after each restore.
    ssm({ fetchData: { featureFlags: '/app/feature-flags' }, setToContext: true }),
  )
  .use(
    secretRefresh({
      secrets: {
        db: { source: 'secretsManager', secretId: 'prod/app/db', json: true },
        apiKey: { source: 'ssm', name: '/prod/app/api-key' },
        // Serves the previous token, with a warning, while the token service is down.
        token: { source: 'function', fetch: rotatingToken, optional: true, timeoutMs: 1_000 },
      },
      refresh: 'eager',
      maxAgeMs: 15 * 60_000,
      clearMiddyCache: true,
    }),
  )
  .handler(async (_event, context) => {
    const { db, apiKey, token } = context
    // Never log these values; log what you did with them.
    return { dbUser: db.username, hasApiKey: apiKey !== undefined, hasToken: token !== undefined }
  })
