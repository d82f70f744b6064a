export { configureFromEnvironment } from '../middlewares/environment.js'
export {
  PRIME_PRIORITY,
  type PrimeOptions,
  primeHandler,
  SnapStartPrimingError,
} from '../middlewares/prime.js'
export {
  type SnapStartContext,
  type SnapStartMiddleware,
  type SnapStartOptions,
  snapStart,
} from '../middlewares/snap-start.js'
export { withSnapStart } from '../middlewares/with-snap-start.js'
export {
  CONFIG_VARIABLES,
  DEFAULT_RESTORE_BUDGET_MS,
  type EnvironmentConfig,
  type EnvironmentSecretSource,
  type GlobalPool,
  InvalidConfigurationError,
  readEnvironmentConfig,
  resolveRestoreBudgetMs,
} from './config.js'
export {
  SnapStartLateRegistrationError,
  SnapStartPhaseError,
  SnapStartStateError,
  SnapStartTimeoutError,
} from './errors.js'
export {
  configure,
  getInitializationType,
  getLastError,
  getLastReport,
  getState,
  INIT_BUDGET_MS,
  isRestored,
  onPhaseEnd,
  RESTORE_BUDGET_MS,
  reset,
  runAfterRestore,
  runBeforeSnapshot,
} from './lifecycle.js'
export {
  getAfterRestore,
  getBeforeSnapshot,
  registerAfterRestore,
  registerBeforeSnapshot,
  registerResource,
} from './registry.js'
export type * from './types.js'
export { VERSION } from './version.js'
