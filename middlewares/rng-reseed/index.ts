export { RngReseedError } from './errors.js'
export {
  type ReseedFunction,
  RNG_RESEED_NAME,
  RNG_RESEED_PRIORITY,
  type RngReseedDetails,
  type RngReseedOptions,
  registerRngReseed,
  rngReseed,
} from './rng-reseed.js'
