// Shared by the runtime and the snapshot entry, which is bundled into each snapshot: it may
// use nothing but the language itself.

/**
 * What names an export: one or more dot-separated parts (`handler`, `api.get`), none empty,
 * with no `/` and no white space, as in the part of `_HANDLER` after the module name. A part
 * may be any property name (`get-orders` is one); whether it exists is `findExport`'s call.
 */
export const EXPORT_PATH = /^[^./\s]+(?:\.[^./\s]+)*$/

/**
 * Finds the handler named by `exportPath` (`handler`, or nested as `api.get`) in a loaded
 * module: its ESM namespace or its `module.exports`. Each part must be an own property, so
 * a name cannot reach inherited members such as `constructor`, `toString` or a function's
 * `call`. When the path leads nowhere, it is walked again from the module's own `default`:
 * a CommonJS module's `module.exports` is also reachable as `default`, which covers exports
 * that Node's static analysis does not list. Returns `undefined` when nothing is found.
 */
export function findExport(module: unknown, exportPath: string): unknown {
  const parts = exportPath.split('.')
  const found = walk(module, parts)
  if (found !== undefined) return found
  return walk(walk(module, ['default']), parts)
}

function walk(start: unknown, parts: string[]): unknown {
  let value = start
  for (const part of parts) {
    if (value === null || (typeof value !== 'object' && typeof value !== 'function')) {
      return undefined
    }
    if (!Object.hasOwn(value, part)) return undefined
    value = (value as Record<string, unknown>)[part]
  }
  return value
}
