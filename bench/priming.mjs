// Priming figures, through the emulator and the built package (npm run build): for the quick
// start example (examples/quickstart/handler.mjs, against an embedded PostgreSQL on
// 127.0.0.1), the first invocation after the restore against a warm one, with priming
// (QUICKSTART_PRIME=1 adds `prime` to its snapStart() options) and without.
//
// Method: each round starts a fresh emulator per variant (the order alternates between
// rounds), restores it, then sends 31 invocations one after another. The first is the one
// measured; "warm" is the median of invocations 10 to 30. A round's ratio is first / warm;
// the figures are medians over the rounds.
//
// Two clocks. The ratios that carry the goal use `InvocationResult.durationMs`, the time the
// emulator measures from handing the event to the runtime until the answer: what Lambda
// bills and a caller waits for, including the runtime's own work for each invocation. The
// handler-side ratios time only the exported handler (its whole middy chain and the query),
// which is what priming runs before the snapshot, through a small wrapper module written to
// a temporary folder: the example itself is not touched.
//
// What a primed first invocation still pays: the runtime warms its own invocation path
// before the snapshot (src/runtime/warm-up.ts), and the example checks its new connection
// with the function's own query after the restore; what is left is mostly the first queries
// after the restore being slower than warm ones for a few rounds, on both ends of the
// connection (here the database runs in this process, on the same two cores).
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startEmulator } from '../dist/emulator.js'
import { startEmbeddedPostgres } from '../examples/quickstart/embedded-postgres.mjs'

const ROUNDS = Number(process.env.SNAPSTART_BENCH_ROUNDS) || 7
const INVOCATIONS = 31
const WARM_FROM = 10
const EXAMPLE = new URL('../examples/quickstart/handler.mjs', import.meta.url)

const WRAPPER = `import { performance } from 'node:perf_hooks'
import { handler as quickstart } from ${JSON.stringify(EXAMPLE.href)}

export async function handler(event, context) {
  const start = performance.now()
  const response = await quickstart(event, context)
  return { ...response, handlerMs: performance.now() - start }
}
`

function median(values) {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}

/** One fresh emulator: restore, then INVOCATIONS invocations; first and warm times. */
async function round(handler, databaseUrl, prime) {
  const env = { DATABASE_URL: databaseUrl }
  if (prime) env.QUICKSTART_PRIME = '1'
  const emulator = await startEmulator({ handler, env, onLog: () => {} })
  try {
    const hooks = emulator.beforeSnapshot?.hooks.map((hook) => hook.name) ?? []
    if (hooks.includes('prime') !== prime) {
      throw new Error(`priming ${prime ? 'missing' : 'unexpected'}: hooks ${hooks.join(', ')}`)
    }
    await emulator.restore()
    const emulatorMs = []
    const handlerMs = []
    for (let i = 0; i < INVOCATIONS; i++) {
      const result = await emulator.invoke({})
      if (result.status !== 'ok' || result.response?.statusCode !== 200) {
        throw new Error(`bench invocation failed: ${JSON.stringify(result)}`)
      }
      emulatorMs.push(result.durationMs)
      handlerMs.push(result.response.handlerMs)
    }
    return { emulator: firstAndWarm(emulatorMs), handler: firstAndWarm(handlerMs) }
  } finally {
    await emulator.close()
  }
}

function firstAndWarm(times) {
  const warm = median(times.slice(WARM_FROM))
  return { first: times[0], warm, ratio: times[0] / warm }
}

/** Medians over the rounds of one variant, for one clock. */
function summary(rounds, clock) {
  return {
    ratio: median(rounds.map((r) => r[clock].ratio)),
    first: median(rounds.map((r) => r[clock].first)),
    warm: median(rounds.map((r) => r[clock].warm)),
  }
}

const round2 = (value) => Math.round(value * 100) / 100

/**
 * Resolves to `{ rows, figures }` (see run.mjs). Figures, medians over the rounds:
 * `primingFirstVsWarmRatio` (goal at most 1.5) and `unprimedFirstVsWarmRatio` by the
 * emulator's clock, and `primingHandlerFirstVsWarmRatio` and
 * `unprimedHandlerFirstVsWarmRatio` by the handler's.
 */
export async function bench() {
  const dir = await mkdtemp(join(tmpdir(), 'snapstart-bench-priming-'))
  const handler = join(dir, 'timed-quickstart.mjs')
  await writeFile(handler, WRAPPER)
  const database = await startEmbeddedPostgres()
  try {
    const primed = []
    const unprimed = []
    for (let i = 0; i < ROUNDS; i++) {
      if (i % 2 === 1) unprimed.push(await round(handler, database.url, false))
      primed.push(await round(handler, database.url, true))
      if (i % 2 === 0) unprimed.push(await round(handler, database.url, false))
    }
    const p = summary(primed, 'emulator')
    const u = summary(unprimed, 'emulator')
    const ph = summary(primed, 'handler')
    const uh = summary(unprimed, 'handler')
    const figures = {
      primingFirstVsWarmRatio: round2(p.ratio),
      unprimedFirstVsWarmRatio: round2(u.ratio),
      primingHandlerFirstVsWarmRatio: round2(ph.ratio),
      unprimedHandlerFirstVsWarmRatio: round2(uh.ratio),
    }
    const ms = (s) => `first ${s.first.toFixed(2)} ms, warm ${s.warm.toFixed(2)} ms`
    const rows = [
      [
        'priming: first after restore / warm, primed',
        figures.primingFirstVsWarmRatio,
        `goal <= 1.5; ${ms(p)}`,
      ],
      ['priming: first after restore / warm, unprimed', figures.unprimedFirstVsWarmRatio, ms(u)],
      ['priming: same, handler only, primed', figures.primingHandlerFirstVsWarmRatio, `${ms(ph)}`],
      [
        'priming: same, handler only, unprimed',
        figures.unprimedHandlerFirstVsWarmRatio,
        `${ms(uh)}; median of ${ROUNDS} rounds`,
      ],
    ]
    return { rows, figures }
  } finally {
    await database.close()
    await rm(dir, { recursive: true, force: true })
  }
}
