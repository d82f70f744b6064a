import { existsSync, readdirSync, readFileSync, realpathSync } from 'node:fs'
import { createRequire } from 'node:module'
import { basename, delimiter, dirname, join, resolve, sep } from 'node:path'
import { pathToFileURL } from 'node:url'

/** `clearCache` of one copy of `@middy/util`: no argument clears every entry. */
export type ClearCache = (keys?: null) => void

/**
 * Finds the `clearCache` function of every copy of `@middy/util` the process can reach: the
 * copies in each `@middy` folder under the `node_modules` of the function's directories
 * (`LAMBDA_TASK_ROOT`, the working directory, the entry script's directory, this file's
 * directory, each `NODE_PATH` folder and `/opt/nodejs` for layers), the copy each `@middy`
 * package there resolves (a nested or pnpm copy), and every copy in `require.cache`.
 *
 * A copy is loaded through `import()` of its own file: Node keeps one instance per file, so
 * this is the very module the middlewares use, and a copy nobody loaded yet has nothing to
 * clear. No cache key is named: `clearCache()` without keys clears them all.
 *
 * Limitation: a bundle (esbuild, webpack) inlines `@middy/util` and leaves no
 * `node_modules`; pass its `clearCache` in `clearMiddyCache: [clearCache]` instead.
 */
export async function findMiddyCaches(): Promise<ClearCache[]> {
  const found = new Map<string, ClearCache>()
  for (const dir of utilDirectories()) {
    const entry = entryFile(dir)
    if (entry === undefined) continue
    try {
      const loaded = (await import(pathToFileURL(entry).href)) as { clearCache?: unknown }
      if (typeof loaded.clearCache === 'function') {
        found.set(entry, loaded.clearCache as ClearCache)
      }
    } catch {
      // A copy that cannot load here (an engine it refuses, a broken install) holds no cache.
    }
  }
  for (const [file, module] of Object.entries(requireCache())) {
    const clear = (module?.exports as { clearCache?: unknown } | undefined)?.clearCache
    if (file.includes(`${sep}@middy${sep}util${sep}`) && typeof clear === 'function') {
      found.set(realpathOr(file), clear as ClearCache)
    }
  }
  return [...found.values()]
}

function utilDirectories(): Set<string> {
  const scopes = new Set<string>()
  for (const root of roots()) {
    for (const dir of ancestors(root)) {
      if (basename(dir) === 'node_modules') continue
      addIfDirectory(scopes, join(dir, 'node_modules', '@middy'))
    }
  }
  for (const folder of (process.env.NODE_PATH ?? '').split(delimiter)) {
    if (folder !== '') addIfDirectory(scopes, join(resolve(folder), '@middy'))
  }

  const utils = new Set<string>()
  for (const scope of scopes) {
    for (const name of safeReaddir(scope)) {
      const packageDir = realpathOr(join(scope, name))
      if (name === 'util') {
        utils.add(packageDir)
        continue
      }
      const resolved = resolveUtilFrom(packageDir)
      if (resolved !== undefined) utils.add(resolved)
    }
  }
  return utils
}

function roots(): string[] {
  const list = [process.env.LAMBDA_TASK_ROOT, process.cwd(), '/opt/nodejs']
  if (process.argv[1] !== undefined) list.push(dirname(resolve(process.argv[1])))
  return [...new Set(list.filter((dir): dir is string => dir !== undefined && dir !== ''))]
}

/** Where Node's resolution finds `@middy/util` for code in `packageDir`. */
function resolveUtilFrom(packageDir: string): string | undefined {
  for (const dir of ancestors(packageDir)) {
    if (basename(dir) === 'node_modules') continue
    const candidate = join(dir, 'node_modules', '@middy', 'util')
    if (existsSync(join(candidate, 'package.json'))) return realpathOr(candidate)
  }
  return undefined
}

/** The file `import('@middy/util')` loads from the package in `dir`. */
function entryFile(dir: string): string | undefined {
  let manifest: Record<string, unknown>
  try {
    manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'))
  } catch {
    return undefined
  }
  const target = importTarget(manifest.exports) ?? manifest.module ?? manifest.main ?? 'index.js'
  if (typeof target !== 'string') return undefined
  const file = join(dir, target)
  return existsSync(file) ? realpathOr(file) : undefined
}

function importTarget(exports: unknown): unknown {
  if (typeof exports === 'string' || exports === undefined || exports === null) return exports
  if (typeof exports !== 'object') return undefined
  const map = exports as Record<string, unknown>
  const main = '.' in map ? map['.'] : map
  if (typeof main === 'string') return main
  if (typeof main !== 'object' || main === null) return undefined
  const conditions = main as Record<string, unknown>
  for (const condition of ['node', 'import', 'default']) {
    const value = importTarget(conditions[condition])
    if (typeof value === 'string') return value
  }
  return undefined
}

function ancestors(start: string): string[] {
  const list: string[] = []
  let dir = resolve(start)
  for (;;) {
    list.push(dir)
    const parent = dirname(dir)
    if (parent === dir) return list
    dir = parent
  }
}

function addIfDirectory(set: Set<string>, dir: string): void {
  if (existsSync(dir)) set.add(realpathOr(dir))
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir)
  } catch {
    return []
  }
}

function realpathOr(path: string): string {
  try {
    return realpathSync(path)
  } catch {
    return path
  }
}

function requireCache(): NodeJS.Dict<NodeJS.Module> {
  try {
    // The module cache is one per process; any require function exposes it. No
    // `import.meta` here: this code must also bundle into CommonJS (startup snapshots).
    return createRequire(join(process.cwd(), 'index.js')).cache
  } catch {
    return {}
  }
}
