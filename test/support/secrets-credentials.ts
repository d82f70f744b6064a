import { once } from 'node:events'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { FakeClock } from './secrets-clock.js'

/**
 * A local container-credentials endpoint, as Lambda serves at
 * `AWS_CONTAINER_CREDENTIALS_FULL_URI`: it checks the `Authorization` header against the
 * token, and issues a new access key on every fetch, valid for `lifetimeMs` on `clock`.
 */
export interface FakeCredentials {
  /** The full URI, for `AWS_CONTAINER_CREDENTIALS_FULL_URI`. */
  readonly url: string
  /** The token, for `AWS_CONTAINER_AUTHORIZATION_TOKEN`. */
  readonly token: string
  /** Fetches answered with credentials. */
  fetches(): number
  /** Whether `accessKeyId` was issued here and has not expired on the clock. */
  isValid(accessKeyId: string): boolean
  close(): Promise<void>
}

export async function startFakeCredentials(options: {
  clock: FakeClock
  lifetimeMs: number
}): Promise<FakeCredentials> {
  const token = 'local-test-token'
  const issued = new Map<string, number>()

  const server = createServer((req, res) => {
    if (req.headers.authorization !== token) {
      res.writeHead(401, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ Code: 'Unauthorized', Message: 'bad token' }))
      return
    }
    const accessKeyId = `ASIATEST${String(issued.size + 1).padStart(8, '0')}`
    const expiresAt = options.clock.now() + options.lifetimeMs
    issued.set(accessKeyId, expiresAt)
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end(
      JSON.stringify({
        AccessKeyId: accessKeyId,
        SecretAccessKey: 'local-secret-access-key',
        Token: `session-${accessKeyId}`,
        Expiration: new Date(expiresAt).toISOString(),
      }),
    )
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as AddressInfo

  return {
    url: `http://127.0.0.1:${port}/2018-06-01/credentials`,
    token,
    fetches: () => issued.size,
    isValid(accessKeyId) {
      const expiresAt = issued.get(accessKeyId)
      return expiresAt !== undefined && expiresAt > options.clock.now()
    },
    async close() {
      server.closeAllConnections()
      server.close()
      await once(server, 'close')
    },
  }
}
