import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import type { BuildFailure, Message, Plugin } from 'esbuild'
import { SnapshotBundleError, SnapshotEsmOnlyError } from './errors.js'
import { REQUIRE_GUARD_KEY } from './protocol.js'

type Esbuild = typeof import('esbuild')

/** The generated entry's name, as the bundle's section comments show it. */
export const ENTRY_NAME = 'snapshot-entry.js'

// The bundle's code sees `require` as this wrapper's parameter, so every require of a
// built-in module passes the guard the entry installs while the snapshot builds.
const BANNER = '(function (require) {'
const FOOTER = [
  '})(function snapshotRequire(id) {',
  `  const guard = globalThis[${JSON.stringify(REQUIRE_GUARD_KEY)}]`,
  "  if (typeof guard === 'function') guard(id)",
  '  return require(id)',
  '});',
].join('\n')

/**
 * Bundles `handler` and the snapshot entry into `outFile`: one CommonJS file for node 20+,
 * built-in modules left as `require` calls. Resolves to the milliseconds esbuild took.
 * Throws `SnapshotEsmOnlyError` for top-level await or `import.meta`, `SnapshotBundleError`
 * for anything else esbuild refuses.
 */
export async function bundleHandler(
  handler: string,
  exportPath: string,
  outFile: string,
): Promise<number> {
  const esbuild = await loadEsbuild()
  const runtime = entryRuntimePath()
  const contents = [
    `const { startSnapshotEntry } = require(${JSON.stringify(runtime)})`,
    `startSnapshotEntry(() => require(${JSON.stringify(handler)}), ${JSON.stringify(exportPath)})`,
  ].join('\n')

  const start = performance.now()
  let warnings: Message[]
  try {
    const result = await esbuild.build({
      stdin: { contents, resolveDir: dirname(handler), sourcefile: ENTRY_NAME },
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'cjs',
      // Scope hoisting renames a function whose name another module also uses (`flush` to
      // `flush2`); hook names in the phase reports come from `fn.name`, so keep them.
      keepNames: true,
      outfile: outFile,
      banner: { js: BANNER },
      footer: { js: FOOTER },
      define: { __SNAPSTART_VERSION__: JSON.stringify(packageVersion(runtime)) },
      // import() of a built-in becomes a require: a snapshot has no dynamic-import callback.
      supported: { 'dynamic-import': false },
      plugins: [optionalPeers()],
      logLevel: 'silent',
      write: true,
    })
    warnings = result.warnings
  } catch (error) {
    throw bundleError(handler, error)
  }
  const importMeta = warnings.find((warning) => warning.id === 'empty-import-meta')
  if (importMeta !== undefined) {
    throw new SnapshotEsmOnlyError('import.meta', where(importMeta), warnings.map(format))
  }
  return performance.now() - start
}

/**
 * This package's optional peers, which it imports only when asked to (the AWS SDK clients
 * for secrets). Where one is not installed, its import is left in the bundle as a
 * `require` that fails only if it is reached, as it would outside a bundle.
 */
const OPTIONAL_PEERS = /^@aws-sdk\/client-(secrets-manager|ssm)$/

function optionalPeers(): Plugin {
  return {
    name: 'middy-snapstart-optional-peers',
    setup(build) {
      build.onResolve({ filter: OPTIONAL_PEERS }, async (args) => {
        if (args.pluginData === OPTIONAL_PEERS) return undefined
        const found = await build.resolve(args.path, {
          kind: args.kind,
          resolveDir: args.resolveDir,
          importer: args.importer,
          pluginData: OPTIONAL_PEERS,
        })
        return found.errors.length === 0 ? found : { path: args.path, external: true }
      })
    },
  }
}

async function loadEsbuild(): Promise<Esbuild> {
  // A computed specifier keeps bundlers from inlining esbuild into this package's build.
  const specifier = 'esbuild'
  try {
    return (await import(specifier)) as Esbuild
  } catch (error) {
    throw new SnapshotBundleError(
      'The snapshot mode bundles the handler with esbuild, which is not installed: run ' +
        '`npm install --save-dev esbuild`.',
      [],
      error,
    )
  }
}

function bundleError(handler: string, error: unknown): SnapshotBundleError {
  const messages = (error as Partial<BuildFailure>).errors ?? []
  const texts = messages.map(format)
  const topLevelAwait = messages.find((message) => /top-level await/i.test(message.text))
  if (topLevelAwait !== undefined) {
    const note = topLevelAwait.notes.find((item) => item.location !== null)
    const location = note?.location ? `${note.location.file}:${note.location.line}` : undefined
    return new SnapshotEsmOnlyError('top-level await', location ?? where(topLevelAwait), texts)
  }
  const first = texts[0] ?? (error instanceof Error ? error.message : String(error))
  return new SnapshotBundleError(
    `Cannot bundle ${handler} into one CommonJS file for the snapshot: ${first}`,
    texts,
    error,
  )
}

function where(message: Message): string {
  const location = message.location
  return location === null ? 'the handler' : `${location.file}:${location.line}`
}

function format(message: Message): string {
  return `${where(message)}: ${message.text}`
}

/**
 * The entry's source beside this file: `entry.ts` when running from source, the built
 * `snapshot-entry.js` when running from `dist`.
 */
function entryRuntimePath(): string {
  const here = dirname(fileURLToPath(import.meta.url))
  for (const candidate of [join(here, 'entry.ts'), join(here, 'snapshot-entry.js')]) {
    if (existsSync(candidate)) return candidate
  }
  throw new SnapshotBundleError(
    `The snapshot entry is missing beside ${here} (entry.ts or snapshot-entry.js): ` +
      'reinstall middy-snapstart.',
    [],
  )
}

/** This package's version, so the bundled copy and the handler's copy agree. */
function packageVersion(from: string): string {
  let dir = dirname(from)
  for (let depth = 0; depth < 4; depth++) {
    const file = join(dir, 'package.json')
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string }
      if (pkg.name === 'middy-snapstart' && pkg.version !== undefined) return pkg.version
    }
    dir = dirname(dir)
  }
  return '0.0.0-source'
}

/**
 * Where in the sources a bundle stack trace points: the first frame, outside this package's
 * entry, mapped to the source file through esbuild's `// path` section comments.
 */
export function sourceOfStack(stack: string | undefined, bundle: string): string | undefined {
  if (stack === undefined || !existsSync(bundle)) return undefined
  const sections: { line: number; file: string }[] = []
  for (const [index, text] of readFileSync(bundle, 'utf8').split('\n').entries()) {
    const match = /^\/\/ (\S+)$/.exec(text)
    if (match) sections.push({ line: index + 1, file: match[1]! })
  }
  const name = bundle.split(/[\\/]/).pop()!
  for (const frame of stack.split('\n').slice(1)) {
    const at = new RegExp(`${name.replace('.', '\\.')}:(\\d+):\\d+`).exec(frame)
    if (at === null) continue
    const line = Number(at[1])
    const file = sections.filter((section) => section.line <= line).pop()?.file
    if (file === undefined || file.endsWith(ENTRY_NAME) || isOwnEntry(file)) continue
    return file
  }
  return undefined
}

function isOwnEntry(file: string): boolean {
  return /(^|\/)src\/snapshot\/entry\.ts$|(^|\/)snapshot-entry\.js$/.test(file)
}
