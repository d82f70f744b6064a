import { checkMilliseconds } from '../../src/milliseconds.js'
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

/** Validates `options` and applies the defaults. Throws a `TypeError` naming the problem. */
export function settingsFrom(options: SecretRefreshOptions): Settings {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new TypeError(
      'secretRefresh: options must be an object such as ' +
        "{ secrets: { apiKey: { source: 'ssm', name: '/app/api-key' } } }",
    )
  }
  for (const key of Object.keys(options)) {
    if (!KNOWN_OPTION_SET.has(key)) {
      throw new TypeError(
        `secretRefresh: unknown option "${key}"; known options: ` +
          `${KNOWN_OPTIONS.join(', ')}, awsClientOptions`,
      )
    }
  }
  const { secrets, refresh = 'eager', maxAgeMs, clearMiddyCache = false } = options
  const onError = options.onError ?? 'fail'

  if (typeof secrets !== 'object' || secrets === null || Array.isArray(secrets)) {
    throw new TypeError('secretRefresh: "secrets" must be an object of named sources')
  }
  if (Object.keys(secrets).length === 0) {
    throw new TypeError('secretRefresh: "secrets" is empty; name at least one source')
  }
  if (refresh !== 'eager' && refresh !== 'lazy') {
    throw new TypeError('secretRefresh: "refresh" must be "eager" or "lazy"')
  }
  if (maxAgeMs !== undefined) checkMilliseconds(maxAgeMs, 'secretRefresh', 'maxAgeMs')
  const clearOk =
    typeof clearMiddyCache === 'boolean' ||
    (Array.isArray(clearMiddyCache) && clearMiddyCache.every((fn) => typeof fn === 'function'))
  if (!clearOk) {
    throw new TypeError(
      'secretRefresh: "clearMiddyCache" must be true, false or an array of clearCache functions',
    )
  }
  if (onError !== 'fail' && onError !== 'keep-previous') {
    throw new TypeError('secretRefresh: "onError" must be "fail" or "keep-previous"')
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
  const label = `secretRefresh: secret "${name}"`
  if (name.trim() === '') throw new TypeError('secretRefresh: a secret has an empty name')
  if (RESERVED_NAMES.has(name)) {
    throw new TypeError(`${label}: the name is a key of Lambda's context; choose another name`)
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
    throw new TypeError(`${label}: expected a source object or an async function`)
  }
  const source = raw as Record<string, unknown>
  const kind = source.source
  if (typeof kind !== 'string' || !KINDS.includes(kind as SourceKind)) {
    const given = typeof kind === 'string' ? `"${kind}"` : 'missing'
    throw new TypeError(
      `${label}: unknown source kind ${given}; expected source: ${KINDS.map(quote).join(', ')}`,
    )
  }
  for (const key of Object.keys(source)) {
    if (!FIELDS[kind as SourceKind].includes(key)) {
      throw new TypeError(`${label}: unknown field "${key}" for source "${kind}"`)
    }
  }

  const optional = source.optional ?? keepPrevious
  if (typeof optional !== 'boolean') throw new TypeError(`${label}: "optional" must be a boolean`)
  const timeoutMs = checkMilliseconds(source.timeoutMs ?? DEFAULT_TIMEOUT_MS, label, 'timeoutMs')
  for (const flag of ['json', 'decrypt']) {
    if (source[flag] !== undefined && typeof source[flag] !== 'boolean') {
      throw new TypeError(`${label}: "${flag}" must be a boolean`)
    }
  }
  const common = { name, optional, timeoutMs }

  if (kind === 'secretsManager') {
    const secretId = nonEmpty(source.secretId, label, 'secretId')
    const versionStage =
      source.versionStage === undefined
        ? undefined
        : nonEmpty(source.versionStage, label, 'versionStage')
    return { ...common, kind, secretId, versionStage, json: source.json === true }
  }
  if (kind === 'ssm') {
    const parameter = nonEmpty(source.name, label, 'name')
    return { ...common, kind, parameter, decrypt: source.decrypt !== false, json: !!source.json }
  }
  if (typeof source.fetch !== 'function') {
    throw new TypeError(`${label}: "fetch" must be a function`)
  }
  return { ...common, kind: 'function', fetch: source.fetch as FunctionFetch }
}

type FunctionFetch = Extract<Entry, { kind: 'function' }>['fetch']

function clientOptionsFrom(raw: unknown): Settings['awsClientOptions'] {
  if (raw === undefined) return { secretsManager: {}, ssm: {} }
  if (!isObject(raw)) {
    throw new TypeError('secretRefresh: "awsClientOptions" must be { secretsManager?, ssm? }')
  }
  for (const key of Object.keys(raw)) {
    if (key !== 'secretsManager' && key !== 'ssm') {
      throw new TypeError(
        `secretRefresh: unknown key "${key}" in "awsClientOptions"; expected secretsManager, ssm`,
      )
    }
    if (!isObject(raw[key])) {
      throw new TypeError(`secretRefresh: "awsClientOptions.${key}" must be an object`)
    }
  }
  return {
    secretsManager: (raw.secretsManager as Record<string, unknown>) ?? {},
    ssm: (raw.ssm as Record<string, unknown>) ?? {},
  }
}

function nonEmpty(value: unknown, label: string, field: string): string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new TypeError(`${label}: "${field}" must be a non-empty string`)
  }
  return value
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function quote(value: string): string {
  return `"${value}"`
}
