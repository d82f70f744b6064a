import { errorName, errorText } from '../../src/describe.js'
import { SecretParseError, SecretRefreshError } from './errors.js'
import type { Entry, Settings } from './options.js'

interface SdkClient {
  send(command: unknown, options?: { abortSignal?: AbortSignal }): Promise<any>
  destroy(): void
}

interface Service {
  client: SdkClient
  command: new (input: Record<string, unknown>) => unknown
}

/**
 * The AWS SDK clients of one `secretRefresh()`, created on first use. The SDK packages are
 * imported only when an entry of that kind is fetched, so users of function sources need
 * neither.
 */
export class Clients {
  #secretsManager: Promise<Service> | undefined
  #ssm: Promise<Service> | undefined
  readonly #options: Settings['awsClientOptions']

  constructor(options: Settings['awsClientOptions']) {
    this.#options = options
  }

  secretsManager(): Promise<Service> {
    this.#secretsManager ??= import('@aws-sdk/client-secrets-manager').then((sdk) => ({
      client: new sdk.SecretsManagerClient({ ...this.#options.secretsManager }),
      command: sdk.GetSecretValueCommand as unknown as Service['command'],
    }))
    return this.#secretsManager
  }

  ssm(): Promise<Service> {
    this.#ssm ??= import('@aws-sdk/client-ssm').then((sdk) => ({
      client: new sdk.SSMClient({ ...this.#options.ssm }),
      command: sdk.GetParameterCommand as unknown as Service['command'],
    }))
    return this.#ssm
  }

  /**
   * Forgets the clients, closing their sockets. The next fetch creates new ones: a client
   * caches its credentials (and its clock offset) in memory, and after a restore those
   * belong to another time, so new clients resolve credentials anew.
   */
  renew(): void {
    for (const service of [this.#secretsManager, this.#ssm]) {
      service?.then(
        (loaded) => loaded.client.destroy(),
        () => {},
      )
    }
    this.#secretsManager = undefined
    this.#ssm = undefined
  }
}

/**
 * Fetches one entry's value. Errors come out as `SecretRefreshError` whose message names
 * the entry and never holds a value.
 */
export async function fetchEntry(
  entry: Entry,
  clients: Clients,
  signal: AbortSignal,
): Promise<unknown> {
  let raw: unknown
  try {
    raw = await fetchRaw(entry, clients, signal)
  } catch (error) {
    if (error instanceof SecretRefreshError) throw error
    throw wrap(entry, error)
  }
  if (entry.kind === 'function' || !entry.json) return raw
  if (typeof raw !== 'string') throw new SecretParseError(entry.name, entry.kind)
  try {
    return JSON.parse(raw)
  } catch {
    throw new SecretParseError(entry.name, entry.kind)
  }
}

async function fetchRaw(entry: Entry, clients: Clients, signal: AbortSignal): Promise<unknown> {
  if (entry.kind === 'function') return entry.fetch({ name: entry.name, signal })

  if (entry.kind === 'secretsManager') {
    const { client, command } = await clients.secretsManager()
    const input = { SecretId: entry.secretId, VersionStage: entry.versionStage }
    const output = await client.send(new command(input), { abortSignal: signal })
    const value = output.SecretString ?? output.SecretBinary
    if (value === undefined) throw missing(entry, 'neither SecretString nor SecretBinary')
    return value
  }

  const { client, command } = await clients.ssm()
  const input = { Name: entry.parameter, WithDecryption: entry.decrypt }
  const output = await client.send(new command(input), { abortSignal: signal })
  const value = output.Parameter?.Value
  if (typeof value !== 'string') throw missing(entry, 'no Parameter.Value')
  return value
}

function missing(entry: Entry, what: string): SecretRefreshError {
  return new SecretRefreshError(
    entry.name,
    entry.kind,
    `secretRefresh: the answer for "${entry.name}" (${entry.kind}) had ${what}`,
  )
}

/**
 * AWS error messages describe the request, never the secret, so they are kept. A function
 * source's error is the user's own: only its name is repeated, the error stays as `cause`.
 */
function wrap(entry: Entry, error: unknown): SecretRefreshError {
  const reason = entry.kind === 'function' ? errorName(error) : errorText(error)
  return new SecretRefreshError(
    entry.name,
    entry.kind,
    `secretRefresh: fetching "${entry.name}" (${entry.kind}) failed (${reason})`,
    { cause: error },
  )
}
