import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { buildSnapshot, removeSnapshot } from '../../src/snapshot/index.js'
import { fixture } from './helpers.js'

const ownDirs: string[] = []
afterEach(() => {
  for (const dir of ownDirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

const quiet = { SNAPSTART_LOG_LEVEL: 'silent' }

describe('removeSnapshot', () => {
  it('deletes the default directory under os.tmpdir(), and may be called twice', async () => {
    const built = await buildSnapshot({ handler: fixture('snap-restore/echo.mjs'), env: quiet })
    ownDirs.push(built.outDir)
    expect(basename(built.outDir)).toMatch(/^middy-snapstart-snapshot-/)
    expect(readdirSync(built.outDir).sort()).toEqual([
      'bundle.cjs',
      'snapshot.blob',
      'snapshot.json',
    ])

    removeSnapshot(built)
    removeSnapshot(built)

    expect(existsSync(built.outDir)).toBe(false)
  })

  it('given the blob path, deletes only what the build wrote in an outDir of yours', async () => {
    const outDir = mkdtempSync(join(tmpdir(), 'snapstart-own-out-'))
    ownDirs.push(outDir)
    writeFileSync(join(outDir, 'notes.txt'), 'mine')
    const built = await buildSnapshot({
      handler: fixture('snap-restore/echo.mjs'),
      env: quiet,
      outDir,
    })

    removeSnapshot(built.blob)

    expect(readdirSync(outDir)).toEqual(['notes.txt'])
  })
})
