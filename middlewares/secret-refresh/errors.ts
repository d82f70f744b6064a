/** The kind of source an entry reads from. */
export type SourceKind = 'secretsManager' | 'ssm' | 'function'

/**
 * Fetching a secret failed. `entry` names the entry as given in `secrets`, `source` its
 * kind; `cause` keeps the underlying error when it cannot contain the value. The message
 * never contains the value.
 */
export class SecretRefreshError extends Error {
  override name = 'SecretRefreshError'
  /** The entry's name, as given in `secrets`. */
  readonly entry: string
  /** The entry's source kind. */
  readonly source: SourceKind

  constructor(entry: string, source: SourceKind, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause })
    this.entry = entry
    this.source = source
  }
}

/** A fetch took longer than the entry's `timeoutMs`, or than the restore budget left. */
export class SecretTimeoutError extends SecretRefreshError {
  override name = 'SecretTimeoutError'
  /** The time the fetch was allowed, in milliseconds. */
  readonly timeoutMs: number

  /**
   * `byPhase`: the limit was what was left of the phase's budget, less than the entry's
   * own `timeoutMs`, so raising `timeoutMs` would not help.
   */
  constructor(entry: string, source: SourceKind, timeoutMs: number, byPhase = false) {
    super(
      entry,
      source,
      `secretRefresh: fetching "${entry}" (${source}) took longer than ${timeoutMs} ms. ` +
        (byPhase
          ? 'That was what was left of the phase budget: check that the endpoint is ' +
            'reachable, or give the phase more time (restoreBudgetMs after a restore).'
          : 'Check that the endpoint is reachable, or raise timeoutMs.'),
    )
    this.timeoutMs = timeoutMs
  }
}

/**
 * An entry asked for JSON and the value fetched is not valid JSON. There is no `cause`:
 * the parser's message quotes the text it failed on.
 */
export class SecretParseError extends SecretRefreshError {
  override name = 'SecretParseError'

  constructor(entry: string, source: SourceKind) {
    super(
      entry,
      source,
      `secretRefresh: "${entry}" (${source}) is not valid JSON, but the entry sets json: true. ` +
        'Store JSON in it, or remove json: true.',
    )
  }
}
