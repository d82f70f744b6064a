import type { Agent } from 'node:http'
import { type EnvironmentConfig, type GlobalPool, readEnvironmentConfig } from '../src/config.js'
import { configure } from '../src/lifecycle.js'
import { log } from '../src/log.js'
import { type FromEnvironment, shared } from '../src/state.js'
import { callAfter, type HandlerCallback } from './callback-handler.js'
import { registerPoolReset } from './pool-reset/pool-reset.js'
import { registerRngReseed } from './rng-reseed/rng-reseed.js'
import { createStore } from './secret-refresh/store.js'
import { enableMetrics } from './snap-start.js'

/**
 * Reads the `SNAPSTART_*` variables of `env` and applies them to this process, once: the
 * first call registers the hooks they ask for, later calls only validate again. The
 * snapstart runtime calls it before it loads the handler, so these hooks register first;
 * call it yourself under another runtime (a web app behind the Lambda Web Adapter).
 *
 * An option given to `snapStart()` or `withSnapStart()` in code later replaces the
 * variable of the same option as a whole (`false` turns it off). Throws
 * `InvalidConfigurationError` (`Runtime.InvalidConfiguration`) for a malformed variable,
 * before registering anything.
 */
export function configureFromEnvironment(env: NodeJS.ProcessEnv = process.env): EnvironmentConfig {
  const config = readEnvironmentConfig(env)
  const state = shared()
  if (state.fromEnvironment !== undefined) return config

  const applied: FromEnvironment = {}
  state.fromEnvironment = applied
  if (config.strict !== undefined) configure({ strict: config.strict })
  if (config.metrics) {
    const unsubscribe = enableMetrics(config.metrics)
    applied.metrics = { unregister: () => void unsubscribe() }
  }
  if (config.rngReseed === true) applied.rngReseed = registerRngReseed()
  if (config.poolReset !== undefined && config.poolReset.length > 0) {
    applied.poolReset = registerPoolReset({ resources: globalPools(config.poolReset) })
  }
  if (config.secrets !== undefined) applied.secrets = createStore({ secrets: config.secrets })
  log('debug', 'SnapStart configuration read from the environment', {
    type: 'snapstart.config',
    applied: Object.keys(applied),
  })
  return config
}

/**
 * The global connection holders `SNAPSTART_POOL_RESET` names. `node:http` and
 * `node:https` are reached only here, when asked for, so importing this package loads
 * neither.
 */
function globalPools(names: readonly GlobalPool[]): Record<string, unknown> {
  const resources: Record<string, unknown> = {}
  for (const name of names) {
    if (name === 'fetch') resources.fetch = globalThis.fetch
    else resources[`${name}.globalAgent`] = builtinAgent(`node:${name}`)
  }
  return resources
}

function builtinAgent(id: 'node:http' | 'node:https'): Agent {
  return (process.getBuiltinModule(id) as { globalAgent: Agent }).globalAgent
}

/**
 * Wraps `handler` so that each invocation finds the values of `SNAPSTART_SECRETS` on its
 * `context`, as `secretRefresh()` puts them, fetching first whatever has expired. Returns
 * `handler` itself when the variable is unset. The wrapper keeps the handler's arity, so a
 * callback-style handler stays one. When code replaces the variable (`snapStart({ secrets })`),
 * the wrapper passes the context through untouched.
 */
export function withEnvironmentSecrets<H extends Function>(handler: H): H {
  if (shared().fromEnvironment?.secrets === undefined) return handler

  const assign = (context: unknown): Promise<void> | undefined => {
    const store = shared().fromEnvironment?.secrets
    if (store === undefined || typeof context !== 'object' || context === null) return undefined
    const values = store.current()
    if (!(values instanceof Promise)) {
      Object.assign(context, values)
      return undefined
    }
    return values.then((resolved) => {
      Object.assign(context, resolved)
    })
  }

  if (handler.length >= 3) {
    return function snapStartEnvironmentHandler(
      event: unknown,
      context: unknown,
      callback: HandlerCallback,
    ) {
      const pending = assign(context)
      if (pending === undefined) return handler(event, context, callback)
      return callAfter(pending, handler, event, context, callback)
    } as unknown as H
  }
  return async function snapStartEnvironmentHandler(event: unknown, context: unknown) {
    await assign(context)
    return handler(event, context)
  } as unknown as H
}
