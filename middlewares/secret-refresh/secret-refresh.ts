import { whenSettled } from '../../src/lifecycle.js'
import { shared } from '../../src/state.js'
import { isPriming } from '../prime.js'
import { createStore } from './store.js'
import type { SecretRefreshOptions } from './types.js'

/** The smallest shape of a middy request this middleware needs. */
interface Request {
  context: object
  internal?: Record<string, unknown>
}

/**
 * Middy middleware that keeps secrets fresh across SnapStart restores. Building it (at
 * module load) validates the options (a `TypeError` naming the problem), starts fetching
 * every entry in parallel and registers the hooks: before the snapshot they wait for the
 * fetches in flight; after the restore every value counts as expired and, with
 * `refresh: 'eager'` (default), is fetched again within the restore budget.
 *
 * Each invocation finds every value on `context.<name>` and `request.internal.<name>`,
 * fetching first whatever has expired. Values are never logged nor put in a report.
 */
export function secretRefresh(options: SecretRefreshOptions) {
  const store = createStore(options)

  function secretRefreshMiddlewareBefore(request: Request): Promise<void> | undefined {
    if (shared().running !== undefined && !isPriming(request.context)) return afterPhase(request)
    const values = store.current()
    if (!(values instanceof Promise)) {
      assign(request, values)
      return undefined
    }
    return values.then((resolved) => assign(request, resolved))
  }

  async function afterPhase(request: Request): Promise<void> {
    await whenSettled()
    await secretRefreshMiddlewareBefore(request)
  }

  return { before: secretRefreshMiddlewareBefore }
}

function assign(request: Request, values: Record<string, unknown>): void {
  Object.assign(request.context, values)
  if (request.internal !== undefined) Object.assign(request.internal, values)
}
