// Unique ids after a SnapStart restore. Every environment restored from one snapshot starts
// with the same memory: without rngReseed(), the ids below would repeat across environments.
//
// Run it through the emulator: npx snapstart run examples/rng-reseed/handler.mjs
import { randomBytes, randomUUID } from 'node:crypto'
import middy from '@middy/core'
import { registerAfterRestore, snapStart } from 'middy-snapstart'
import { rngReseed } from 'middy-snapstart/rng-reseed'

/** A small seeded generator the code owns (for sampling); rngReseed cannot see it. */
function createSampler(seed) {
  let state = seed >>> 0
  return function sample() {
    state = (state + 0x6d2b79f5) | 0
    let t = Math.imul(state ^ (state >>> 15), 1 | state)
    t ^= t + Math.imul(t ^ (t >>> 7), 61 | t)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

// Init: everything here lands in the snapshot, including this generator's state.
let sample = createSampler(randomBytes(4).readUInt32LE())

// Registered before the middleware, yet it runs after the reseed (the reseed's tier is the
// highest), so this id differs in every restored environment.
let environmentId = randomUUID()
registerAfterRestore(function newEnvironmentId() {
  environmentId = randomUUID()
})

async function ids() {
  return {
    environmentId,
    requestId: randomUUID(),
    shortId: Math.random().toString(36).slice(2, 10),
    sampled: sample() < 0.1,
  }
}

export const handler = middy()
  .use(
    rngReseed({
      reseed: [
        function reseedSampler() {
          sample = createSampler(randomBytes(4).readUInt32LE())
        },
      ],
    }),
  )
  .use(snapStart())
  .handler(ids)
