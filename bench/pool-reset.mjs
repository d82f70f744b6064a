import { performance } from 'node:perf_hooks'
import pg from 'pg'
import { reset, runAfterRestore, runBeforeSnapshot } from '../dist/index.js'
import { registerPoolReset } from '../dist/pool-reset.js'

const ROUNDS = 15

/** Median after-restore time, in milliseconds, for one prewarm setting. */
async function afterRestoreMs(prewarm) {
  const times = []
  for (let round = 0; round < ROUNDS; round += 1) {
    reset()
    const pool = new pg.Pool({ host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test' })
    registerPoolReset({ resources: { db: pool }, prewarm })
    await runBeforeSnapshot()
    const start = performance.now()
    await runAfterRestore()
    times.push(performance.now() - start)
    await pool.end()
  }
  times.sort((a, b) => a - b)
  return times[Math.floor(times.length / 2)]
}

/**
 * After-restore time of a pg Pool with `prewarm: 3` divided by the time with `prewarm: 1`
 * (median of 15 rounds each, against the local PostgreSQL). Close to 1 when the three
 * connections open in parallel.
 */
export async function bench() {
  const previous = process.env.SNAPSTART_LOG_LEVEL
  process.env.SNAPSTART_LOG_LEVEL = 'silent'
  try {
    await afterRestoreMs(1)
    const one = await afterRestoreMs(1)
    const three = await afterRestoreMs(3)
    return { poolResetPrewarm3vs1Ratio: Math.round((three / one) * 100) / 100 }
  } finally {
    if (previous === undefined) delete process.env.SNAPSTART_LOG_LEVEL
    else process.env.SNAPSTART_LOG_LEVEL = previous
    reset()
  }
}
