import { configureFromEnvironment, withEnvironmentSecrets } from '../middlewares/environment.js'
import { resolveRestoreBudgetMs } from './config.js'
import { provideHandler, runAfterRestore } from './lifecycle.js'
import type { PhaseReport } from './types.js'

/**
 * Loads the handler the way every host of this package does, the snapstart runtime and the
 * snapshot entry alike: applies the `SNAPSTART_*` variables of `env` first (so the hooks
 * they ask for register before the handler's), then calls `load`, then wraps what it
 * returns for `SNAPSTART_SECRETS` and hands it to the lifecycle. Resolves to the wrapped
 * handler. Rejects with `InvalidConfigurationError` (`Runtime.InvalidConfiguration`) for a
 * malformed variable, before `load` runs, or with whatever `load` throws.
 *
 * It is bundled into every startup snapshot, so neither it nor what it imports may load
 * `http`, `https` or other modules a snapshot cannot hold.
 */
export async function loadHostHandler<H extends Function>(
  env: NodeJS.ProcessEnv,
  load: () => H | Promise<H>,
): Promise<H> {
  configureFromEnvironment(env)

  const handler = withEnvironmentSecrets(await load())
  provideHandler(handler)
  return handler
}

/**
 * Runs the after-restore hooks with the budget the host gives them, in milliseconds:
 * `snapStart({ restoreBudgetMs })` in code, else `SNAPSTART_RESTORE_BUDGET_MS` of `env`,
 * else 9 000 (Lambda's 10 000 ms restore limit less a 1 000 ms margin). Resolves to the
 * phase report; rejects as `runAfterRestore` does, or with `InvalidConfigurationError` for
 * a malformed `SNAPSTART_RESTORE_BUDGET_MS`.
 */
export async function runHostAfterRestore(env: NodeJS.ProcessEnv): Promise<PhaseReport> {
  return await runAfterRestore({ budgetMs: resolveRestoreBudgetMs(env) })
}
