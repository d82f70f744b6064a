import { randomFillSync } from 'node:crypto'
import { log } from '../../src/log.js'

/**
 * The generator that stands in for `Math.random`, shared by every copy of this package in
 * the process (the ESM and CJS builds, nested copies) through a `Symbol.for` key, so it is
 * installed once and one reseed reaches it whichever copy runs the hook.
 */
interface GeneratorStore {
  readonly schema: 1
  /** sfc32 state: a, b, c, and the counter d. Reseeding writes into this same array. */
  readonly state: Int32Array
  /** The function installed as `Math.random`. */
  readonly random: () => number
  /** Set once the warning about `Math.random` replaced by other code has been logged. */
  warnedReplaced: boolean
}

const KEY = Symbol.for('middy-snapstart.rng-reseed.generator')

/** 2^-53: turns a 53-bit integer into a double in [0, 1). */
const TWO_POW_MINUS_53 = 1 / 9_007_199_254_740_992

/** Rounds run after seeding, so the first outputs do not echo the seed bytes. */
const WARM_UP_ROUNDS = 12

/**
 * Replaces `Math.random` with an sfc32 generator (Chris Doty-Humphrey's Small Fast Chaotic
 * generator, 128 bits of state, 32-bit output) seeded from `crypto.randomFillSync`. Each
 * double takes two outputs: 27 high bits and 26 low bits, 53 bits in all, uniform on
 * [0, 1) (V8's own has 52). Calling it again does nothing: once per process.
 *
 * Why replace it at all: V8 keeps `Math.random`'s state in the heap and offers no way to
 * reseed it, so a memory snapshot restored twice draws the same numbers twice.
 */
export function installGenerator(): GeneratorStore {
  const holder = globalThis as { [KEY]?: GeneratorStore }
  const existing = holder[KEY]
  if (existing !== undefined) return existing

  const state = new Int32Array(4)
  seed(state)
  const store: GeneratorStore = {
    schema: 1,
    state,
    random: createRandom(state),
    warnedReplaced: false,
  }
  const descriptor = Object.getOwnPropertyDescriptor(Math, 'random')
  Object.defineProperty(Math, 'random', { ...descriptor, value: store.random })
  holder[KEY] = store
  return store
}

/**
 * Gives the installed generator fresh state from `crypto.randomFillSync`. Returns
 * `'reseeded'`, or `'replaced-by-other-code'` when `Math.random` is no longer the installed
 * generator: then it is left alone (its owner reseeds it through `reseed`) and one warning
 * says so.
 */
export function reseedGenerator(): 'reseeded' | 'replaced-by-other-code' {
  const store = installGenerator()
  seed(store.state)
  if (Math.random === store.random) return 'reseeded'

  if (!store.warnedReplaced) {
    store.warnedReplaced = true
    log(
      'warn',
      'rngReseed: Math.random was replaced by other code after the install; it is not ' +
        'reseeded. Reseed that generator through the reseed option.',
      {
        type: 'snapstart.rngReseed.mathRandomReplaced',
      },
    )
  }
  return 'replaced-by-other-code'
}

function seed(state: Int32Array): void {
  randomFillSync(state)
  const next = createStep(state)
  for (let round = 0; round < WARM_UP_ROUNDS; round++) next()
}

/** One sfc32 step: returns 32 bits as a signed integer and advances `state`. */
function createStep(state: Int32Array): () => number {
  return function sfc32Step() {
    const a = state[0]!
    const b = state[1]!
    const c = state[2]!
    const d = state[3]!
    const out = (((a + b) | 0) + d) | 0
    state[0] = b ^ (b >>> 9)
    state[1] = (c + (c << 3)) | 0
    state[2] = (((c << 21) | (c >>> 11)) + out) | 0
    state[3] = (d + 1) | 0
    return out
  }
}

/**
 * The `Math.random` replacement: two sfc32 steps written out in one function, because a
 * call per step costs more than the arithmetic.
 */
function createRandom(state: Int32Array): () => number {
  return function random() {
    let a = state[0]!
    let b = state[1]!
    let c = state[2]!
    let d = state[3]!

    let out = (((a + b) | 0) + d) | 0
    d = (d + 1) | 0
    a = b ^ (b >>> 9)
    b = (c + (c << 3)) | 0
    c = (((c << 21) | (c >>> 11)) + out) | 0
    const high = out >>> 5

    out = (((a + b) | 0) + d) | 0
    state[0] = b ^ (b >>> 9)
    state[1] = (c + (c << 3)) | 0
    state[2] = (((c << 21) | (c >>> 11)) + out) | 0
    state[3] = (d + 1) | 0

    return (high * 67_108_864 + (out >>> 6)) * TWO_POW_MINUS_53
  }
}
