import { settingsFrom } from '../middlewares/secret-refresh/options.js'
import { OptionError } from './errors.js'
import { RESTORE_BUDGET_MS } from './lifecycle.js'
import type { LogLevel } from './log.js'
import { RuntimeError } from './runtime/errors.js'
import { readFlag, shared } from './state.js'

/**
 * Milliseconds kept back from Lambda's 10 000 ms restore limit by default, so the runtime
 * reports an after-restore overrun itself before Lambda stops the environment.
 */
const RESTORE_MARGIN_MS = 1_000

/** The default after-restore budget, in milliseconds: 9 000. */
export const DEFAULT_RESTORE_BUDGET_MS = RESTORE_BUDGET_MS - RESTORE_MARGIN_MS

/** The environment variables the configuration reads, in the order they are checked. */
export const CONFIG_VARIABLES = [
  'SNAPSTART_LOG_LEVEL',
  'SNAPSTART_STRICT',
  'SNAPSTART_RNG_RESEED',
  'SNAPSTART_METRICS',
  'SNAPSTART_RESTORE_BUDGET_MS',
  'SNAPSTART_POOL_RESET',
  'SNAPSTART_SECRETS',
] as const

/** A global connection holder `SNAPSTART_POOL_RESET` can name. */
export type GlobalPool = 'fetch' | 'http' | 'https'

/** A secret source `SNAPSTART_SECRETS` can name (JSON has no functions). */
export type EnvironmentSecretSource =
  | {
      source: 'secretsManager'
      secretId: string
      versionStage?: string
      json?: boolean
      optional?: boolean
      timeoutMs?: number
    }
  | {
      source: 'ssm'
      name: string
      decrypt?: boolean
      json?: boolean
      optional?: boolean
      timeoutMs?: number
    }

/**
 * The configuration read from `SNAPSTART_*` variables. A field is absent when its variable
 * is unset or empty.
 */
export interface EnvironmentConfig {
  /** `SNAPSTART_LOG_LEVEL`. */
  logLevel?: LogLevel
  /** `SNAPSTART_STRICT`. */
  strict?: boolean
  /** `SNAPSTART_RNG_RESEED`. */
  rngReseed?: boolean
  /** `SNAPSTART_METRICS`: `false`, or the namespace (`true` means `SnapStart`). */
  metrics?: false | { namespace: string }
  /** `SNAPSTART_RESTORE_BUDGET_MS`, in milliseconds. */
  restoreBudgetMs?: number
  /** `SNAPSTART_POOL_RESET`: the global holders to reset; empty when turned off. */
  poolReset?: GlobalPool[]
  /** `SNAPSTART_SECRETS`: name to source. */
  secrets?: Record<string, EnvironmentSecretSource>
}

/**
 * A `SNAPSTART_*` variable holds a value the runtime cannot use. Its `name` is the Lambda
 * error type `Runtime.InvalidConfiguration`, which the runtime reports to
 * `/runtime/init/error` before it loads the handler. The message names the variable and
 * the form expected; it never repeats the value of `SNAPSTART_SECRETS`.
 */
export class InvalidConfigurationError extends RuntimeError {
  /** The variable that holds the bad value. */
  readonly variable: string

  constructor(variable: string, message: string) {
    super('Runtime.InvalidConfiguration', `${variable}: ${message}`)
    this.variable = variable
  }
}

const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error', 'silent']
const GLOBAL_POOLS: readonly GlobalPool[] = ['fetch', 'http', 'https']
const NAMESPACE = /^[0-9A-Za-z.\-_/#:]{1,255}$/
const SECRET_FIELDS: Record<EnvironmentSecretSource['source'], readonly string[]> = {
  secretsManager: ['source', 'secretId', 'versionStage', 'json', 'optional', 'timeoutMs'],
  ssm: ['source', 'name', 'decrypt', 'json', 'optional', 'timeoutMs'],
}

/**
 * Reads and validates every `SNAPSTART_*` variable of `env`. An unset or empty variable is
 * left out. Throws `InvalidConfigurationError` on the first malformed one.
 */
export function readEnvironmentConfig(env: NodeJS.ProcessEnv = process.env): EnvironmentConfig {
  const config: EnvironmentConfig = {}
  const value = (name: (typeof CONFIG_VARIABLES)[number]) => {
    const raw = env[name]
    return raw === undefined || raw.trim() === '' ? undefined : raw.trim()
  }

  const logLevel = value('SNAPSTART_LOG_LEVEL')
  if (logLevel !== undefined) config.logLevel = parseLogLevel(logLevel)
  const strict = value('SNAPSTART_STRICT')
  if (strict !== undefined) config.strict = parseBoolean('SNAPSTART_STRICT', strict)
  const reseed = value('SNAPSTART_RNG_RESEED')
  if (reseed !== undefined) config.rngReseed = parseBoolean('SNAPSTART_RNG_RESEED', reseed)
  const metrics = value('SNAPSTART_METRICS')
  if (metrics !== undefined) config.metrics = parseMetrics(metrics)
  const budget = value('SNAPSTART_RESTORE_BUDGET_MS')
  if (budget !== undefined) config.restoreBudgetMs = parseBudget(budget)
  const pools = value('SNAPSTART_POOL_RESET')
  if (pools !== undefined) config.poolReset = parsePoolReset(pools)
  const secrets = value('SNAPSTART_SECRETS')
  if (secrets !== undefined) config.secrets = parseSecrets(secrets)
  return config
}

/**
 * The after-restore budget in milliseconds: `snapStart({ restoreBudgetMs })` in code, else
 * `SNAPSTART_RESTORE_BUDGET_MS`, else `DEFAULT_RESTORE_BUDGET_MS`. Read it after the
 * handler module has loaded, since code sets its value then.
 */
export function resolveRestoreBudgetMs(env: NodeJS.ProcessEnv = process.env): number {
  const fromCode = shared().restoreBudgetMs
  if (fromCode !== undefined) return fromCode
  const raw = env.SNAPSTART_RESTORE_BUDGET_MS
  if (raw === undefined || raw.trim() === '') return DEFAULT_RESTORE_BUDGET_MS
  return parseBudget(raw.trim())
}

function parseLogLevel(raw: string): LogLevel {
  const level = raw.toLowerCase() as LogLevel
  if (LOG_LEVELS.includes(level)) return level
  throw new InvalidConfigurationError(
    'SNAPSTART_LOG_LEVEL',
    `expected one of ${LOG_LEVELS.join(', ')}, got "${raw}"`,
  )
}

function parseBoolean(variable: string, raw: string): boolean {
  const flag = readFlag(raw)
  if (typeof flag === 'boolean') return flag
  throw new InvalidConfigurationError(variable, `expected true or false, got "${raw}"`)
}

/** What a CloudWatch namespace of ours may be, in words, for error messages. */
export const NAMESPACE_RULE = '1 to 255 of A-Z a-z 0-9 . - _ / # :, not starting with "AWS/"'

/** Whether `value` is a CloudWatch namespace this package may write metrics under. */
export function isMetricsNamespace(value: unknown): value is string {
  return typeof value === 'string' && NAMESPACE.test(value) && !value.startsWith('AWS/')
}

function parseMetrics(raw: string): false | { namespace: string } {
  if (raw === 'false') return false
  if (raw === 'true') return { namespace: 'SnapStart' }
  if (!isMetricsNamespace(raw)) {
    throw new InvalidConfigurationError(
      'SNAPSTART_METRICS',
      `expected true, false or a CloudWatch namespace (${NAMESPACE_RULE}), got "${raw}"`,
    )
  }
  return { namespace: raw }
}

function parseBudget(raw: string): number {
  const ms = /^\d+$/.test(raw) ? Number(raw) : Number.NaN
  if (!(ms >= 1 && ms <= 900_000)) {
    throw new InvalidConfigurationError(
      'SNAPSTART_RESTORE_BUDGET_MS',
      `expected a whole number of milliseconds from 1 to 900000, got "${raw}"`,
    )
  }
  return ms
}

function parsePoolReset(raw: string): GlobalPool[] {
  if (raw === 'true') return [...GLOBAL_POOLS]
  if (raw === 'false') return []
  const names = raw.split(',').map((name) => name.trim())
  const bad = names.find((name) => !GLOBAL_POOLS.includes(name as GlobalPool))
  if (bad !== undefined) {
    throw new InvalidConfigurationError(
      'SNAPSTART_POOL_RESET',
      'expected true, false or a comma-separated list of fetch, http, https, got ' +
        `"${raw}" ("${bad}" is not one of them)`,
    )
  }
  return [...new Set(names as GlobalPool[])]
}

/**
 * Parses `SNAPSTART_SECRETS`. Messages name the entry and the field, never a value from
 * the variable: a misplaced secret value must not reach the logs.
 */
function parseSecrets(raw: string): Record<string, EnvironmentSecretSource> {
  const fail = (what: string) => new InvalidConfigurationError('SNAPSTART_SECRETS', what)
  const example =
    '{"apiKey":{"source":"secretsManager","secretId":"prod/api-key"},' +
    '"flags":{"source":"ssm","name":"/app/flags","json":true}}'
  let parsed: unknown
  try {
    parsed = JSON.parse(raw)
  } catch {
    throw fail(`is not valid JSON; expected an object such as ${example}`)
  }
  if (!isRecord(parsed)) throw fail(`expected a JSON object such as ${example}`)
  const names = Object.keys(parsed)
  if (names.length === 0) throw fail('is an empty object; name at least one secret')

  const secrets: Record<string, EnvironmentSecretSource> = {}
  for (const name of names) {
    const path = `"${name}"`
    const spec = parsed[name]
    if (!isRecord(spec)) {
      throw fail(`${path} must be an object such as {"source":"ssm","name":"/app/x"}`)
    }
    const source = spec.source
    if (source !== 'secretsManager' && source !== 'ssm') {
      throw fail(`${path}.source must be "secretsManager" or "ssm"`)
    }
    for (const key of Object.keys(spec)) {
      if (!SECRET_FIELDS[source].includes(key)) {
        throw fail(
          `${path} has unknown field "${key}" for source "${source}"; expected ` +
            SECRET_FIELDS[source].join(', '),
        )
      }
    }
    const required = source === 'secretsManager' ? 'secretId' : 'name'
    const optionalStrings = source === 'secretsManager' ? ['versionStage'] : []
    for (const field of [required, ...optionalStrings]) {
      const text = spec[field]
      if (field !== required && text === undefined) continue
      if (typeof text !== 'string' || text.trim() === '') {
        throw fail(`${path}.${field} must be a non-empty string`)
      }
    }
    for (const field of ['json', 'optional', 'decrypt']) {
      if (spec[field] !== undefined && typeof spec[field] !== 'boolean') {
        throw fail(`${path}.${field} must be true or false`)
      }
    }
    const timeoutMs = spec.timeoutMs
    if (
      timeoutMs !== undefined &&
      !(typeof timeoutMs === 'number' && Number.isFinite(timeoutMs) && timeoutMs > 0)
    ) {
      throw fail(`${path}.timeoutMs must be a positive number of milliseconds`)
    }
    secrets[name] = spec as EnvironmentSecretSource
  }
  try {
    settingsFrom({ secrets })
  } catch (error) {
    if (!(error instanceof OptionError)) throw error
    throw fail(secretsProblem(error))
  }
  return secrets
}

/**
 * What `settingsFrom` found wrong with `{ secrets }`, in this variable's words: `"<name>":
 * <problem>` for a secret, `"<name>": "<field>" <problem>` for one of its fields.
 */
function secretsProblem({ path, problem }: OptionError): string {
  const [option, name, field] = path
  if (option === undefined) return problem
  if (option !== 'secrets' || name === undefined) return `"${path.join('.')}" ${problem}`
  return field === undefined ? `"${name}": ${problem}` : `"${name}": "${field}" ${problem}`
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
