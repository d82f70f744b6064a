import { OptionError } from '../../src/errors.js'
import { isMilliseconds, NOT_MILLISECONDS } from '../../src/milliseconds.js'
import type { SourceKind } from './errors.js'
import type { FetchContext, SecretRefreshOptions } from './types.js'

/** The default of each entry's `timeoutMs`, in milliseconds. */
export const DEFAULT_TIMEOUT_MS = 5_000

/** One entry of `secrets`, validated, with every default applied. */
export type Entry = {
  readonly name: string
  readonly optional: boolean
  readonly timeoutMs: number
} & (
  | {
      readonly kind: 'secretsManager'
      readonly secretId: string
      readonly versionStage: string | undefined
      readonly json: boolean
    }
  | { readonly kind: 'ssm'; readonly parameter: string; readonly decrypt: boolean; json: boolean }
  | { readonly kind: 'function'; readonly fetch: (context: FetchContext) => unknown }
)

/** Options validated, with every default applied. */
export interface Settings {
  readonly entries: readonly Entry[]
  readonly refresh: 'eager' | 'lazy'
  readonly maxAgeMs: number | undefined
  readonly clearMiddyCache: false | true | ReadonlyArray<(keys?: null) => void>
  readonly awsClientOptions: {
    readonly secretsManager: Record<string, unknown>
    readonly ssm: Record<string, unknown>
  }
}

const KNOWN_OPTIONS = ['secrets', 'refresh', 'maxAgeMs', 'clearMiddyCache', 'onError']
const KNOWN_OPTION_SET = new Set([...KNOWN_OPTIONS, 'awsClientOptions'])
const KINDS: readonly SourceKind[] = ['secretsManager', 'ssm', 'function']
const COMMON_FIELDS = ['source', 'optional', 'timeoutMs']
const FIELDS: Record<SourceKind, readonly string[]> = {
  secretsManager: [...COMMON_FIELDS, 'secretId', 'versionStage', 'json'],
  ssm: [...COMMON_FIELDS, 'name', 'decrypt', 'json'],
  function: [...COMMON_FIELDS, 'fetch'],
}

/**
 * Keys of Lambda's context object (and of this library's own additions). A secret under one
 * of these names would overwrite what the runtime put there.
 */
const RESERVED_NAMES = new Set([
  'functionName',
  'functionVersion',
  'invokedFunctionArn',
  'memoryLimitInMB',
  'awsRequestId',
  'logGroupName',
  'logStreamName',
  'identity',
  'clientContext',
  'callbackWaitsForEmptyEventLoop',
  'getRemainingTimeInMillis',
  'done',
  'fail',
  'succeed',
  'tenantId',
  'snapStart',
])

/**
 * Validates `options` and applies the defaults. Throws an `OptionError` (a `TypeError`)
 * naming the problem; its `path` and `problem` let `snapStart()` and `SNAPSTART_SECRETS`
 * word it their own way.
 */
export function settingsFrom(options: SecretRefreshOptions): Settings {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw generalError(
      'options must be an object such as ' +
        "{ secrets: { apiKey: { source: 'ssm', name: '/app/api-key' } } }",
    )
  }
  for (const key of Object.keys(options)) {
    if (!KNOWN_OPTION_SET.has(key)) {
      throw generalError(
        `unknown option "${key}"; known options: ${KNOWN_OPTIONS.join(', ')}, awsClientOptions`,
      )
    }
  }
  const { secrets, refresh = 'eager', maxAgeMs, clearMiddyCache = false } = options
  const onError = options.onError ?? 'fail'

  if (typeof secrets !== 'object' || secrets === null || Array.isArray(secrets)) {
    throw optionError(['secrets'], 'must be an object of named sources')
  }
  if (Object.keys(secrets).length === 0) {
    throw optionError(['secrets'], 'is empty; name at least one source')
  }
  if (refresh !== 'eager' && refresh !== 'lazy') {
    throw optionError(['refresh'], 'must be "eager" or "lazy"')
  }
  if (maxAgeMs !== undefined && !isMilliseconds(maxAgeMs)) {
    throw optionError(['maxAgeMs'], NOT_MILLISECONDS)
  }
  const clearOk =
    typeof clearMiddyCache === 'boolean' ||
    (Array.isArray(clearMiddyCache) && clearMiddyCache.every((fn) => typeof fn === 'function'))
  if (!clearOk) {
    throw optionError(
      ['clearMiddyCache'],
      'must be true, false or an array of clearCache functions',
    )
  }
  if (onError !== 'fail' && onError !== 'keep-previous') {
    throw optionError(['onError'], 'must be "fail" or "keep-previous"')
  }

  const entries = Object.entries(secrets).map(([name, source]) =>
    entryFrom(name, source, onError === 'keep-previous'),
  )
  return {
    entries,
    refresh,
    maxAgeMs,
    clearMiddyCache,
    awsClientOptions: clientOptionsFrom(options.awsClientOptions),
  }
}

function entryFrom(name: string, raw: unknown, keepPrevious: boolean): Entry {
  if (name.trim() === '') throw generalError('a secret has an empty name')
  if (RESERVED_NAMES.has(name)) {
    throw secretError(name, "the name is a key of Lambda's context; choose another name")
  }
  if (typeof raw === 'function') {
    return {
      name,
      kind: 'function',
      fetch: raw as Extract<Entry, { kind: 'function' }>['fetch'],
      optional: keepPrevious,
      timeoutMs: DEFAULT_TIMEOUT_MS,
    }
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw secretError(name, 'expected a source object or an async function')
  }
  const source = raw as Record<string, unknown>
  const kind = source.source
  if (typeof kind !== 'string' || !KINDS.includes(kind as SourceKind)) {
    const given = typeof kind === 'string' ? `"${kind}"` : 'missing'
    const text = `unknown source kind ${given}; expected source: ${KINDS.map(quote).join(', ')}`
    throw secretError(name, text, `has ${text}`)
  }
  for (const key of Object.keys(source)) {
    if (!FIELDS[kind as SourceKind].includes(key)) {
      const text = `unknown field "${key}" for source "${kind}"`
      throw secretError(name, text, `has ${text}`)
    }
  }

  const optional = source.optional ?? keepPrevious
  if (typeof optional !== 'boolean') throw fieldError(name, 'optional', 'must be a boolean')
  const timeoutMs = source.timeoutMs ?? DEFAULT_TIMEOUT_MS
  if (!isMilliseconds(timeoutMs)) throw fieldError(name, 'timeoutMs', NOT_MILLISECONDS)
  for (const flag of ['json', 'decrypt']) {
    if (source[flag] !== undefined && typeof source[flag] !== 'boolean') {
      throw fieldError(name, flag, 'must be a boolean')
    }
  }
  const common = { name, optional, timeoutMs }

  if (kind === 'secretsManager') {
    const secretId = nonEmpty(source.secretId, name, 'secretId')
    const versionStage =
      source.versionStage === undefined
        ? undefined
        : nonEmpty(source.versionStage, name, 'versionStage')
    return { ...common, kind, secretId, versionStage, json: source.json === true }
  }
  if (kind === 'ssm') {
    const parameter = nonEmpty(source.name, name, 'name')
    return { ...common, kind, parameter, decrypt: source.decrypt !== false, json: !!source.json }
  }
  if (typeof source.fetch !== 'function') {
    throw fieldError(name, 'fetch', 'must be a function')
  }
  return { ...common, kind: 'function', fetch: source.fetch as FunctionFetch }
}

type FunctionFetch = Extract<Entry, { kind: 'function' }>['fetch']

function clientOptionsFrom(raw: unknown): Settings['awsClientOptions'] {
  if (raw === undefined) return { secretsManager: {}, ssm: {} }
  if (!isObject(raw)) {
    throw optionError(['awsClientOptions'], 'must be { secretsManager?, ssm? }')
  }
  for (const key of Object.keys(raw)) {
    if (key !== 'secretsManager' && key !== 'ssm') {
      throw generalError(`unknown key "${key}" in "awsClientOptions"; expected secretsManager, ssm`)
    }
    if (!isObject(raw[key])) {
      throw optionError(['awsClientOptions', key], 'must be an object')
    }
  }
  return {
    secretsManager: (raw.secretsManager as Record<string, unknown>) ?? {},
    ssm: (raw.ssm as Record<string, unknown>) ?? {},
  }
}

function nonEmpty(value: unknown, name: string, field: string): string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw fieldError(name, field, 'must be a non-empty string')
  }
  return value
}

/** A problem that names what it is about: `secretRefresh: <problem>`, with an empty path. */
function generalError(problem: string): OptionError {
  return new OptionError(`secretRefresh: ${problem}`, [], problem)
}

/** A problem with an option other than one secret: `secretRefresh: "<path>" <problem>`. */
function optionError(path: readonly string[], problem: string): OptionError {
  return new OptionError(`secretRefresh: "${path.join('.')}" ${problem}`, path, problem)
}

/**
 * A problem with secret `name` as a whole: `secretRefresh: secret "<name>": <text>`. Pass
 * `problem` where the complaint needs other words to follow the quoted path
 * (`"secrets.db" has unknown field ...`).
 */
function secretError(name: string, text: string, problem = text): OptionError {
  return new OptionError(`secretRefresh: secret "${name}": ${text}`, ['secrets', name], problem)
}

/** A problem with one field of secret `name`: `secretRefresh: secret "<name>": "<field>" ...`. */
function fieldError(name: string, field: string, problem: string): OptionError {
  return new OptionError(
    `secretRefresh: secret "${name}": "${field}" ${problem}`,
    ['secrets', name, field],
    problem,
  )
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function quote(value: string): string {
  return `"${value}"`
}
