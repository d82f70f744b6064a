export { MAX_EVENT_BYTES } from '../runtime-api.js'
export {
  type Emulator,
  type ExitStatus,
  type InvokeOptions,
  type RestoreResult,
  startEmulator,
} from './emulator.js'
export { EmulatorError, EmulatorStateError } from './errors.js'
export { type ApiCall, MAX_RESPONSE_BYTES } from './server.js'
export type * from './types.js'
