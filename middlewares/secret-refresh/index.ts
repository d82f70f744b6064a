export {
  SecretParseError,
  SecretRefreshError,
  SecretTimeoutError,
  type SourceKind,
} from './errors.js'
export { DEFAULT_TIMEOUT_MS } from './options.js'
export { secretRefresh } from './secret-refresh.js'
export { registerSecretRefresh, type SecretStore } from './store.js'
export type {
  FetchContext,
  FunctionSource,
  SecretRefreshDetails,
  SecretRefreshOptions,
  SecretSource,
  SecretsManagerSource,
  SsmSource,
} from './types.js'
