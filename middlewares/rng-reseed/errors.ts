import { errorText } from '../../src/describe.js'

/**
 * A function from the `reseed` option threw (or rejected) after the restore. `reseed` names
 * it (its function name, or `#index (anonymous)`); `cause` keeps its error. The after-restore
 * phase fails with this error as its cause, because ids drawn from that generator would not
 * be unique.
 */
export class RngReseedError extends Error {
  override name = 'RngReseedError'
  /** The failing function's name, or `#index (anonymous)`. */
  readonly reseed: string

  constructor(reseed: string, cause: unknown) {
    super(`rngReseed: reseed function "${reseed}" failed: ${errorText(cause)}`, { cause })
    this.reseed = reseed
  }
}
