// Priming figures, through the emulator and the built package (npm run build): for the quick
// start example (examples/quickstart/handler.mjs, against an embedded PostgreSQL on
// 127.0.0.1), the first invocation after the restore against a warm one, with priming
// (QUICKSTART_PRIME=1 adds `prime: { events: [{}], times: 20 }` to its snapStart() options)
// and without.
//
// Method: each round starts a fresh emulator per variant (the order alternates between
// rounds), restores it, then sends 31 invocations one after another. The first is the one
// measured; "warm" is the median of invocations 10 to 30. A round's ratio is first / warm;
// the figures are medians over the rounds (25 by default, SNAPSTART_BENCH_ROUNDS to change).
//
// Two clocks. The ratios that carry the goal use `InvocationResult.durationMs`, the time the
// emulator measures from handing the event to the runtime until the answer: what Lambda
// bills and a caller waits for, including the runtime's own work for each invocation. They
// run the example itself, untouched. The handler-side ratios time only the exported handler
// (its whole middy chain and the query) through a small wrapper module written to a
// temporary folder, in rounds of their own (a third as many): the wrapper is code of its
// own, and its first call after the restore costs more than the example's.
//
// What priming has to do for the goal, found with V8's function-event and map logs and
// per-position medians: (1) run the code real invocations run, not a copy of it: priming
// goes through the runtime's own invocation path (context, handler call, serialization),
// `context.snapStart` is built by one function for both, and the runtime warms its HTTP
// path itself (src/runtime/warm-up.ts), so nothing is compiled during the first invocation
// after the restore; (2) run it enough times for V8 to optimize it: with one round the first
// invocations after the restore form a curve (about 1.5, 1.4, 1.3, ... times warm over ten
// invocations) while V8 tiers the code up; with 20 rounds it is gone by the third; (3) send
// events shaped like the real ones: an object of another shape in the first real invocation
// makes V8 redo the object layouts it had settled on.
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { startEmulator } from '../dist/emulator.js'
import { startEmbeddedPostgres } from '../examples/quickstart/embedded-postgres.mjs'

const ROUNDS = Number(process.env.SNAPSTART_BENCH_ROUNDS) || 25
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

/**
 * One fresh emulator for `handler`: restore, then INVOCATIONS invocations. Resolves to the
 * first and warm times by `clock`: `emulator` (`durationMs`) or `handler` (the wrapper's
 * `handlerMs`).
 */
async function round(handler, databaseUrl, prime, clock) {
  const env = { DATABASE_URL: databaseUrl }
  if (prime) env.QUICKSTART_PRIME = '1'
  const emulator = await startEmulator({ handler, env, onLog: () => {} })
  try {
    const hooks = emulator.beforeSnapshot?.hooks.map((hook) => hook.name) ?? []
    if (hooks.includes('prime') !== prime) {
      throw new Error(`priming ${prime ? 'missing' : 'unexpected'}: hooks ${hooks.join(', ')}`)
    }
    await emulator.restore()
    const times = []
    for (let i = 0; i < INVOCATIONS; i++) {
      const result = await emulator.invoke({})
      if (result.status !== 'ok' || result.response?.statusCode !== 200) {
        throw new Error(`bench invocation failed: ${JSON.stringify(result)}`)
      }
      times.push(clock === 'emulator' ? result.durationMs : result.response.handlerMs)
    }
    return firstAndWarm(times)
  } finally {
    await emulator.close()
  }
}

/** `rounds` rounds of both variants, alternating which goes first. */
async function rounds(count, handler, databaseUrl, clock) {
  const primed = []
  const unprimed = []
  for (let i = 0; i < count; i++) {
    if (i % 2 === 1) unprimed.push(await round(handler, databaseUrl, false, clock))
    primed.push(await round(handler, databaseUrl, true, clock))
    if (i % 2 === 0) unprimed.push(await round(handler, databaseUrl, false, clock))
  }
  return { primed: summary(primed), unprimed: summary(unprimed) }
}

function firstAndWarm(times) {
  const warm = median(times.slice(WARM_FROM))
  return { first: times[0], warm, ratio: times[0] / warm }
}

/** Medians over the rounds of one variant. */
function summary(results) {
  return {
    ratio: median(results.map((r) => r.ratio)),
    first: median(results.map((r) => r.first)),
    warm: median(results.map((r) => r.warm)),
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
  const wrapper = join(dir, 'timed-quickstart.mjs')
  await writeFile(wrapper, WRAPPER)
  const database = await startEmbeddedPostgres()
  try {
    const direct = await rounds(ROUNDS, fileURLToPath(EXAMPLE), database.url, 'emulator')
    const handlerRounds = Math.ceil(ROUNDS / 3)
    const wrapped = await rounds(handlerRounds, wrapper, database.url, 'handler')
    const p = direct.primed
    const u = direct.unprimed
    const ph = wrapped.primed
    const uh = wrapped.unprimed
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
      [
        'priming: first after restore / warm, unprimed',
        figures.unprimedFirstVsWarmRatio,
        `${ms(u)}; median of ${ROUNDS} rounds`,
      ],
      ['priming: same, handler only, primed', figures.primingHandlerFirstVsWarmRatio, `${ms(ph)}`],
      [
        'priming: same, handler only, unprimed',
        figures.unprimedHandlerFirstVsWarmRatio,
        `${ms(uh)}; median of ${handlerRounds} rounds`,
      ],
    ]
    return { rows, figures }
  } finally {
    await database.close()
    await rm(dir, { recursive: true, force: true })
  }
}
