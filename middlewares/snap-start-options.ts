import { isMetricsNamespace, NAMESPACE_RULE } from '../src/config.js'
import { OptionError } from '../src/errors.js'
import { checkMilliseconds } from '../src/milliseconds.js'
import { settingsFrom } from './secret-refresh/options.js'
import type { SecretRefreshOptions, SecretSource } from './secret-refresh/types.js'

/** The option keys of `snapStart()` and `withSnapStart()`. */
const SNAP_START_OPTIONS = [
  'metrics',
  'strict',
  'prime',
  'restoreBudgetMs',
  'rngReseed',
  'poolReset',
  'secrets',
  'secretRefresh',
] as const

const KNOWN = new Set<string>(SNAP_START_OPTIONS)
const POOL_RESET_KEYS = new Set(['resources', 'prewarm', 'drainTimeoutMs'])
const RNG_RESEED_KEYS = new Set(['reseed'])
const SECRET_REFRESH_KEYS = new Set([
  'refresh',
  'maxAgeMs',
  'clearMiddyCache',
  'onError',
  'awsClientOptions',
])

/** A `TypeError` whose message starts `snapStart: "<path>"`. */
function optionError(path: string, what: string): TypeError {
  return new TypeError(`snapStart: "${path}" ${what}`)
}

/**
 * Checks every option of `snapStart()` at factory time, before anything is registered.
 * Throws a `TypeError` naming the option path (`secrets.apiKey.source`, `poolReset.prewarm`).
 * Whether each pool resource is a kind `poolReset` knows is checked when it registers.
 */
export function validateSnapStartOptions(options: unknown): void {
  if (!isRecord(options)) {
    throw new TypeError('snapStart: options must be an object, for example { metrics: true }')
  }
  for (const key of Object.keys(options)) {
    if (!KNOWN.has(key)) {
      throw new TypeError(
        `snapStart: unknown option "${key}"; known options: ${SNAP_START_OPTIONS.join(', ')}`,
      )
    }
  }
  validateMetrics(options.metrics)
  if (options.strict !== undefined && typeof options.strict !== 'boolean') {
    throw optionError('strict', 'must be a boolean')
  }
  if (options.prime !== undefined && !isRecord(options.prime)) {
    throw optionError('prime', 'must be an object such as { events: [{}] }')
  }
  const budget = options.restoreBudgetMs
  if (
    budget !== undefined &&
    !(typeof budget === 'number' && Number.isInteger(budget) && budget >= 1 && budget <= 900_000)
  ) {
    throw optionError('restoreBudgetMs', 'must be a whole number of milliseconds, 1 to 900000')
  }
  validateRngReseed(options.rngReseed)
  validatePoolReset(options.poolReset)
  validateSecrets(options.secrets, options.secretRefresh)
}

function validateMetrics(metrics: unknown): void {
  if (metrics === undefined || typeof metrics === 'boolean') return
  if (!isRecord(metrics)) {
    throw optionError('metrics', 'must be true, false or { namespace: "MyService" }')
  }
  for (const key of Object.keys(metrics)) {
    if (key !== 'namespace') {
      throw optionError(`metrics.${key}`, 'is not an option of metrics; expected namespace')
    }
  }
  const { namespace } = metrics
  if (namespace !== undefined && !isMetricsNamespace(namespace)) {
    throw optionError('metrics.namespace', `must be a CloudWatch namespace: ${NAMESPACE_RULE}`)
  }
}

function validateRngReseed(rngReseed: unknown): void {
  if (rngReseed === undefined || typeof rngReseed === 'boolean') return
  if (!isRecord(rngReseed)) {
    throw optionError('rngReseed', 'must be true, false or { reseed: [functions] }')
  }
  for (const key of Object.keys(rngReseed)) {
    if (!RNG_RESEED_KEYS.has(key)) {
      throw optionError(`rngReseed.${key}`, 'is not an option of rngReseed; expected reseed')
    }
  }
  const { reseed } = rngReseed
  if (reseed === undefined) return
  if (!Array.isArray(reseed)) throw optionError('rngReseed.reseed', 'must be an array of functions')
  const bad = reseed.findIndex((fn) => typeof fn !== 'function')
  if (bad !== -1) throw optionError(`rngReseed.reseed[${bad}]`, 'must be a function')
}

function validatePoolReset(poolReset: unknown): void {
  if (poolReset === undefined || poolReset === false) return
  if (!isRecord(poolReset)) {
    throw optionError('poolReset', 'must be false or { resources, prewarm?, drainTimeoutMs? }')
  }
  for (const key of Object.keys(poolReset)) {
    if (!POOL_RESET_KEYS.has(key)) {
      throw optionError(
        `poolReset.${key}`,
        'is not an option of poolReset; expected resources, prewarm, drainTimeoutMs',
      )
    }
  }
  const { resources, prewarm, drainTimeoutMs } = poolReset
  const count = Array.isArray(resources)
    ? resources.length
    : isRecord(resources)
      ? Object.keys(resources).length
      : -1
  if (count === -1) {
    throw optionError('poolReset.resources', 'must be an array or an object of resources')
  }
  if (count === 0) throw optionError('poolReset.resources', 'is empty; give at least one')
  if (prewarm !== undefined && !(Number.isInteger(prewarm) && (prewarm as number) >= 0)) {
    throw optionError('poolReset.prewarm', 'must be a whole number >= 0')
  }
  if (drainTimeoutMs !== undefined) {
    checkMilliseconds(drainTimeoutMs, 'snapStart', 'poolReset.drainTimeoutMs')
  }
}

function validateSecrets(secrets: unknown, secretRefresh: unknown): void {
  if (secretRefresh !== undefined) {
    if (!isRecord(secretRefresh)) {
      throw optionError('secretRefresh', 'must be an object such as { refresh: "eager" }')
    }
    for (const key of Object.keys(secretRefresh)) {
      if (!SECRET_REFRESH_KEYS.has(key)) {
        throw optionError(
          `secretRefresh.${key}`,
          `is not an option of secretRefresh; expected ${[...SECRET_REFRESH_KEYS].join(', ')}`,
        )
      }
    }
    if (!isRecord(secrets)) {
      throw optionError('secretRefresh', 'needs "secrets": name the secrets to keep fresh')
    }
  }
  if (secrets === undefined || secrets === false) return
  if (!isRecord(secrets)) {
    throw optionError('secrets', 'must be false or an object of named sources')
  }
  if (Object.keys(secrets).length === 0) {
    throw optionError('secrets', 'is empty; name at least one source')
  }
  for (const [name, source] of Object.entries(secrets)) {
    validateSecretSource(name, source)
  }
  try {
    settingsFrom({
      ...(secretRefresh as Omit<SecretRefreshOptions, 'secrets'>),
      secrets: secrets as Record<string, SecretSource>,
    })
  } catch (error) {
    if (!(error instanceof OptionError)) throw error
    const { path, problem } = error
    if (path.length === 0) throw new TypeError(`snapStart: ${problem}`, { cause: error })
    // `secrets` is an option of snapStart() itself; the others sit under `secretRefresh`.
    const full = path[0] === 'secrets' ? path : ['secretRefresh', ...path]
    throw optionError(full.join('.'), problem)
  }
}

const SOURCE_KINDS = ['secretsManager', 'ssm', 'function']

function validateSecretSource(name: string, source: unknown): void {
  const path = `secrets.${name}`
  if (typeof source === 'function') return
  if (!isRecord(source)) {
    throw optionError(path, 'must be a source object such as { source: "ssm", name } or a function')
  }
  if (typeof source.source !== 'string' || !SOURCE_KINDS.includes(source.source)) {
    throw optionError(`${path}.source`, 'must be "secretsManager", "ssm" or "function"')
  }
  const required = { secretsManager: 'secretId', ssm: 'name', function: 'fetch' }[source.source]!
  const value = source[required]
  const ok = required === 'fetch' ? typeof value === 'function' : isNonEmptyString(value)
  if (!ok) {
    throw optionError(
      `${path}.${required}`,
      required === 'fetch' ? 'must be a function' : 'must be a non-empty string',
    )
  }
}

function isNonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value.trim() !== ''
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
