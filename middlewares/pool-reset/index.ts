export type { CustomResource } from './adapters/custom.js'
export { currentPgClient } from './adapters/pg.js'
export { PoolResetDrainTimeoutError, PoolResetError, PoolResetReopenError } from './errors.js'
export {
  DEFAULT_DRAIN_TIMEOUT_MS,
  type PoolReset,
  type PoolResetDetails,
  type PoolResetOptions,
  poolReset,
  registerPoolReset,
} from './pool-reset.js'
