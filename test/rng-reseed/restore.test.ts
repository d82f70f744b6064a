import { execFile } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { build } from 'esbuild'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const run = promisify(execFile)
const fixtures = new URL('../fixtures/rng-reseed/', import.meta.url)
const randomSeedScript = fileURLToPath(new URL('random-seed.mjs', fixtures))
const snapshotEntry = fileURLToPath(new URL('snapshot-entry.mjs', fixtures))

/** The environment of every child: quiet, and no inherited loaders or flags. */
function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, SNAPSTART_LOG_LEVEL: 'silent', ...extra }
  delete env.NODE_OPTIONS
  return env
}

/** The last stdout line of a child, parsed. */
async function lastJsonLine<T>(args: string[], env = childEnv()): Promise<T> {
  const { stdout } = await run(process.execPath, args, { env })
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as T
}

interface SeededEnvironment {
  initId: string
  ids: string[]
  poolTag: string
  afterRestoreOrder: string[]
}

/**
 * One restored environment stood in for by a process started with V8's --random-seed: two
 * of them begin with the same Math.random state, as two restores of one memory snapshot do.
 */
function seededEnvironment(mode: 'reseed' | 'control'): Promise<SeededEnvironment> {
  return lastJsonLine<SeededEnvironment>(['--random-seed=20240611', randomSeedScript, mode])
}

describe('Math.random across two environments with identical state (--random-seed)', () => {
  it('C09 control: without the reseed, both environments draw the same 3 ids', async () => {
    const [first, second] = await Promise.all([
      seededEnvironment('control'),
      seededEnvironment('control'),
    ])

    expect(second.initId).toBe(first.initId)
    expect(second.ids).toEqual(first.ids)
    expect(new Set([...first.ids, ...second.ids]).size).toBe(3)
  })

  it('C09: with rngReseed(), the 6 ids drawn after restore are distinct', async () => {
    const [first, second] = await Promise.all([
      seededEnvironment('reseed'),
      seededEnvironment('reseed'),
    ])

    expect(second.initId).toBe(first.initId)
    expect(new Set([...first.ids, ...second.ids]).size).toBe(6)
  })

  it('C10 control: a pool registered first tags its connection identically in both', async () => {
    const [first, second] = await Promise.all([
      seededEnvironment('control'),
      seededEnvironment('control'),
    ])

    expect(first.afterRestoreOrder).toEqual(['pool'])
    expect(second.poolTag).toBe(first.poolTag)
  })

  it('C10: the reseed runs before a pool registered earlier; the tags differ', async () => {
    const [first, second] = await Promise.all([
      seededEnvironment('reseed'),
      seededEnvironment('reseed'),
    ])

    expect(first.afterRestoreOrder).toEqual(['rng-reseed', 'pool'])
    expect(second.afterRestoreOrder).toEqual(['rng-reseed', 'pool'])
    expect(second.poolTag).not.toBe(first.poolTag)
  })
})

interface SnapshotEnvironment {
  initId: string
  randomUUID: string[]
  webCryptoRandomUUID: string[]
  uuidV4: string[]
  uuidV7: string[]
  uuidV1Node: string
  mathRandom: number[]
  poolTag: string
  poolMathTag: string
  afterRestoreOrder: string[]
}

describe("a Node startup snapshot restored into two environments (Node's --build-snapshot)", () => {
  let dir: string
  const blobs = { reseed: '', control: '' }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rng-reseed-snapshot-'))
    const bundle = join(dir, 'entry.cjs')
    await build({
      entryPoints: [snapshotEntry],
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      outfile: bundle,
      logLevel: 'error',
    })
    for (const mode of ['reseed', 'control'] as const) {
      blobs[mode] = join(dir, `${mode}.blob`)
      const env = childEnv({ RNG_FIXTURE_RESEED: mode === 'reseed' ? '1' : '0' })
      await run(process.execPath, ['--snapshot-blob', blobs[mode], '--build-snapshot', bundle], {
        env,
      })
    }
  })

  afterAll(async () => {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true })
  })

  function restore(mode: 'reseed' | 'control', ...args: string[]) {
    return lastJsonLine<SnapshotEnvironment>(['--snapshot-blob', blobs[mode], ...args])
  }

  async function restoreTwice(mode: 'reseed' | 'control', ...args: string[]) {
    return Promise.all([restore(mode, ...args), restore(mode, ...args)])
  }

  it('C09 control: crypto.randomUUID() hands out the same 3 ids in both environments', async () => {
    const [first, second] = await restoreTwice('control')

    expect(second.initId).toBe(first.initId)
    expect(second.randomUUID).toEqual(first.randomUUID)
    expect(second.webCryptoRandomUUID).toEqual(first.webCryptoRandomUUID)
    expect(new Set([...first.randomUUID, ...second.randomUUID]).size).toBe(3)
  })

  it('C09: with rngReseed(), the 6 crypto.randomUUID() ids are distinct', async () => {
    const [first, second] = await restoreTwice('reseed')

    expect(second.initId).toBe(first.initId)
    expect(new Set([...first.randomUUID, ...second.randomUUID]).size).toBe(6)
    expect(second.webCryptoRandomUUID).not.toEqual(first.webCryptoRandomUUID)
  })

  it('C09 uuid v4() repeats in the control: it calls crypto.randomUUID()', async () => {
    const [first, second] = await restoreTwice('control')

    expect(second.uuidV4).toEqual(first.uuidV4)
  })

  it('C09 uuid: with rngReseed(), the 6 v4() ids are distinct; v7() needs nothing', async () => {
    const [first, second] = await restoreTwice('reseed')
    const [controlFirst, controlSecond] = await restoreTwice('control')

    expect(new Set([...first.uuidV4, ...second.uuidV4]).size).toBe(6)
    expect(new Set([...controlFirst.uuidV7, ...controlSecond.uuidV7]).size).toBe(6)
  })

  it('Limitation: uuid v1() keeps its node id in module state, the same everywhere', async () => {
    const [first, second] = await restoreTwice('reseed')

    expect(second.uuidV1Node).toBe(first.uuidV1Node)
  })

  it('the replaced Math.random is in the snapshot: without the phase, both repeat', async () => {
    const [first, second] = await restoreTwice('reseed', 'skip-after-restore')

    expect(first.afterRestoreOrder).toEqual([])
    expect(second.mathRandom).toEqual(first.mathRandom)
  })

  it('C09: each restore reseeds Math.random; the 6 numbers drawn are distinct', async () => {
    const [first, second] = await restoreTwice('reseed')

    expect(new Set([...first.mathRandom, ...second.mathRandom]).size).toBe(6)
  })

  it('C10: the reseed runs first; the pool tags its connection differently in each', async () => {
    const [first, second] = await restoreTwice('reseed')
    const [controlFirst, controlSecond] = await restoreTwice('control')

    expect(first.afterRestoreOrder).toEqual(['rng-reseed', 'pool'])
    expect(second.afterRestoreOrder).toEqual(['rng-reseed', 'pool'])
    expect(second.poolTag).not.toBe(first.poolTag)
    expect(second.poolMathTag).not.toBe(first.poolMathTag)
    expect(controlFirst.afterRestoreOrder).toEqual(['pool'])
    expect(controlSecond.poolTag).toBe(controlFirst.poolTag)
  })
})
