// Pool reset figures: whether `prewarm` opens its connections in parallel after the restore.
// On loopback a PostgreSQL connection costs mostly the server's backend start (CPU-bound on a
// small machine), which says nothing about parallelism. So the goal figure connects through a
// relay that adds a fixed delay to every chunk in each direction, standing for the network
// round trip a Lambda function has to its database: opened in parallel, three connections
// cost about one round trip; opened one after another, about three.
import { once } from 'node:events'
import { connect, createServer } from 'node:net'
import { performance } from 'node:perf_hooks'
import pg from 'pg'
import { reset, runAfterRestore, runBeforeSnapshot } from '../dist/index.js'
import { registerPoolReset } from '../dist/pool-reset.js'

const PG_PORT = 5432
const ROUNDS = 15
/** Added to every chunk in each direction by the relay, in milliseconds. */
const ONE_WAY_MS = 20

function median(values) {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]
}

function ratio(a, b) {
  return Math.round((a / b) * 100) / 100
}

/**
 * A TCP relay on 127.0.0.1 in front of PostgreSQL that delivers every chunk, and the end of
 * each stream, `delayMs` after it arrived, in both directions (order is kept: timers of the
 * same duration fire in the order they were set).
 */
async function startLatencyRelay(targetPort, delayMs) {
  const sockets = new Set()
  const server = createServer((client) => {
    const upstream = connect(targetPort, '127.0.0.1')
    for (const [from, to] of [
      [client, upstream],
      [upstream, client],
    ]) {
      sockets.add(from)
      from.on('error', () => {})
      from.on('data', (chunk) => setTimeout(() => to.write(chunk), delayMs))
      from.on('end', () => setTimeout(() => to.end(), delayMs))
      from.on('close', () => {
        sockets.delete(from)
        setTimeout(() => to.destroy(), delayMs)
      })
    }
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return {
    port: server.address().port,
    async close() {
      for (const socket of sockets) socket.destroy()
      server.close()
      await once(server, 'close')
    },
  }
}

function newPool(port) {
  const pool = new pg.Pool({ host: '127.0.0.1', port, user: 'postgres', database: 'test' })
  pool.on('error', () => {})
  return pool
}

/** Median after-restore time, in milliseconds, of a fresh pg Pool with `prewarm`. */
async function afterRestoreMs(port, prewarm) {
  const times = []
  for (let round = 0; round < ROUNDS; round += 1) {
    reset()
    const pool = newPool(port)
    registerPoolReset({ resources: { db: pool }, prewarm })
    await runBeforeSnapshot()
    const start = performance.now()
    await runAfterRestore()
    times.push(performance.now() - start)
    await pool.end()
  }
  return median(times)
}

/** Median time, in milliseconds, to open `count` connections one after another. */
async function serialOpenMs(port, count) {
  const times = []
  for (let round = 0; round < ROUNDS; round += 1) {
    const pool = newPool(port)
    const start = performance.now()
    const held = []
    for (let i = 0; i < count; i += 1) held.push(await pool.connect())
    times.push(performance.now() - start)
    for (const client of held) client.release()
    await pool.end()
  }
  return median(times)
}

/**
 * After-restore time of a pg Pool with `prewarm: 3` divided by the time with `prewarm: 1`
 * (median of 15 rounds each), through a relay adding 20 ms each way: close to 1 when the
 * three connections open in parallel. Also reported, outside the goal: the same ratio on
 * loopback, and a serial baseline (three connects one after another against one).
 */
export async function bench() {
  const previous = process.env.SNAPSTART_LOG_LEVEL
  process.env.SNAPSTART_LOG_LEVEL = 'silent'
  const relay = await startLatencyRelay(PG_PORT, ONE_WAY_MS)
  try {
    await afterRestoreMs(relay.port, 1)
    const one = await afterRestoreMs(relay.port, 1)
    const three = await afterRestoreMs(relay.port, 3)
    const serialOne = await serialOpenMs(relay.port, 1)
    const serialThree = await serialOpenMs(relay.port, 3)
    await afterRestoreMs(PG_PORT, 1)
    const loopbackOne = await afterRestoreMs(PG_PORT, 1)
    const loopbackThree = await afterRestoreMs(PG_PORT, 3)

    const poolResetPrewarm3vs1Ratio = ratio(three, one)
    const via = `pg via relay +${ONE_WAY_MS} ms each way`
    return {
      rows: [
        [`poolReset prewarm 1, after restore, ${via}`, `${one.toFixed(1)} ms`, ''],
        [`poolReset prewarm 3, after restore, ${via}`, `${three.toFixed(1)} ms`, ''],
        [`poolReset prewarm 3 vs 1 ratio, ${via}`, poolResetPrewarm3vs1Ratio, 'goal <= 1.3'],
        [
          `baseline: 3 connects one after another vs 1, ${via}`,
          ratio(serialThree, serialOne),
          'serial would give this',
        ],
        [
          'poolReset prewarm 3 vs 1 ratio, pg on loopback',
          ratio(loopbackThree, loopbackOne),
          'no goal: server-bound',
        ],
      ],
      figures: { poolResetPrewarm3vs1Ratio },
    }
  } finally {
    await relay.close()
    if (previous === undefined) delete process.env.SNAPSTART_LOG_LEVEL
    else process.env.SNAPSTART_LOG_LEVEL = previous
    reset()
  }
}
