export {
  PRIME_PRIORITY,
  type PrimeOptions,
  primeHandler,
  SnapStartPrimingError,
} from '../middlewares/prime.js'
export {
  type SnapStartContext,
  type SnapStartOptions,
  snapStart,
} from '../middlewares/snap-start.js'
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
