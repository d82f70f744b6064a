/** What a function source receives. */
export interface FetchContext {
  /** The entry's name, as given in `secrets`. */
  name: string
  /** Aborted when the fetch times out or the restore phase runs out of budget. */
  signal: AbortSignal
}

/** Fields every source accepts. */
interface SourceCommon {
  /**
   * When a fetch of this entry fails, keep serving the value fetched before (or `undefined`
   * when there is none) and log a warning naming the entry, instead of failing.
   * Default `false`, or `true` for every entry when `onError` is `'keep-previous'`.
   */
  optional?: boolean
  /**
   * How long one fetch of this entry may take, in milliseconds (1 to 2 147 483 647).
   * Default 5000.
   */
  timeoutMs?: number
}

/** A secret from AWS Secrets Manager (`GetSecretValue`). */
export interface SecretsManagerSource extends SourceCommon {
  source: 'secretsManager'
  /** The secret's name or ARN. */
  secretId: string
  /** The version stage to read, default `AWSCURRENT`. */
  versionStage?: string
  /** Parse `SecretString` as JSON. Default `false`: the value is the string. */
  json?: boolean
}

/** A parameter from SSM Parameter Store (`GetParameter`). */
export interface SsmSource extends SourceCommon {
  source: 'ssm'
  /** The parameter's name (`/app/db/password`) or ARN. */
  name: string
  /** Decrypt a `SecureString`. Default `true`. */
  decrypt?: boolean
  /** Parse the value as JSON. Default `false`: the value is the string. */
  json?: boolean
}

/** Any async function; its resolved value is the secret. */
export interface FunctionSource extends SourceCommon {
  source: 'function'
  fetch: (context: FetchContext) => unknown
}

/** Where one secret comes from. A bare function is short for `{ source: 'function', fetch }`. */
export type SecretSource =
  | SecretsManagerSource
  | SsmSource
  | FunctionSource
  | ((context: FetchContext) => unknown)

/** Options of `secretRefresh()` and `registerSecretRefresh()`. */
export interface SecretRefreshOptions {
  /**
   * The secrets, keyed by the name the handler reads them under (`context.<name>` and
   * `request.internal.<name>`).
   */
  secrets: Readonly<Record<string, SecretSource>>
  /**
   * After the restore every value fetched before counts as expired. `'eager'` (default)
   * fetches all again in parallel inside the after-restore phase, within its budget;
   * `'lazy'` fetches each on the first invocation that needs it.
   */
  refresh?: 'eager' | 'lazy'
  /**
   * A value older than this many milliseconds (1 to 2 147 483 647) is fetched again by the
   * next invocation, between restores too. Default: no age limit (values expire only at
   * restore).
   *
   * Limitation: the invocation that finds the value expired waits for the fetch; there is
   * no background refresh timer, since a timer would be frozen into the snapshot.
   */
  maxAgeMs?: number
  /**
   * After the restore, clear the cache of every copy of `@middy/util` the process can reach,
   * so `@middy/ssm`, `@middy/secrets-manager` and the other AWS middlewares fetch again on
   * their next invocation. `true` finds the copies under `node_modules`; an array gives the
   * `clearCache` functions to call, for bundles where no `node_modules` is left.
   * Default `false`.
   *
   * Limitation: middy's middlewares then fetch again with their own SDK clients, created
   * during init, which keep their cached credentials until the SDK finds them expired.
   */
  clearMiddyCache?: boolean | ReadonlyArray<(keys?: null) => void>
  /**
   * What a failed fetch does: `'fail'` (default) fails the restore (or the invocation) with
   * a `SecretRefreshError`; `'keep-previous'` treats every entry as `optional`.
   */
  onError?: 'fail' | 'keep-previous'
  /**
   * Options for the AWS SDK clients this middleware creates, per service, passed to their
   * constructors (`region`, `endpoint`, ...). The clients are created again after the
   * restore, so they resolve credentials anew.
   */
  awsClientOptions?: {
    secretsManager?: Record<string, unknown>
    ssm?: Record<string, unknown>
  }
}

/** What the hooks return; the phase report shows it as `details`. Counts only, no values. */
export interface SecretRefreshDetails {
  /** Entries managed. */
  secrets: number
  /**
   * Before the snapshot: fetches still in flight that the hook waited for. After the
   * restore: entries fetched again (0 in lazy mode).
   */
  fetched: number
  /** Entries whose fetch failed and that kept their previous value (optional entries). */
  keptPrevious: number
  /** The refresh mode. */
  refresh: 'eager' | 'lazy'
  /** Copies of `@middy/util` whose cache was cleared (after restore only). */
  middyCachesCleared?: number
}
