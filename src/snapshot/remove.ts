import { existsSync, readdirSync, rmdirSync, rmSync, statSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { BLOB_FILE, BUNDLE_FILE, SNAPSHOT_META } from './build.js'
import { EVENTS_PREFIX } from './restore.js'
import type { BuiltSnapshot } from './types.js'

/**
 * Deletes what `buildSnapshot` wrote: the blob, the bundle, `snapshot.json` and any event
 * file a restore left behind, then their directory once nothing else is in it (always so for
 * the default directory under `os.tmpdir()`). Other files in an `outDir` of yours are kept.
 *
 * `snapshot` is the `BuiltSnapshot`, or the path of its blob or directory. A path where no
 * `snapshot.json` is left (a snapshot already removed) is left alone, so calling it twice is
 * safe.
 */
export function removeSnapshot(snapshot: BuiltSnapshot | string): void {
  const dir = typeof snapshot === 'string' ? directoryOf(snapshot) : snapshot.outDir
  if (dir === undefined || !existsSync(join(dir, SNAPSHOT_META))) return

  for (const name of [BLOB_FILE, BUNDLE_FILE, SNAPSHOT_META]) {
    rmSync(join(dir, name), { force: true })
  }
  for (const name of readdirSync(dir)) {
    if (name.startsWith(EVENTS_PREFIX) && name.endsWith('.json')) {
      rmSync(join(dir, name), { force: true })
    }
  }
  if (readdirSync(dir).length === 0) rmdirSync(dir)
}

/** The snapshot directory of a blob or directory path, or undefined when it does not exist. */
function directoryOf(path: string): string | undefined {
  if (!existsSync(path)) return undefined
  return statSync(path).isDirectory() ? path : dirname(path)
}
