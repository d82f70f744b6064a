import { existsSync } from 'node:fs'
import { basename, dirname, extname, join } from 'node:path'
import { findModuleFile, MODULE_EXTENSIONS } from '../runtime/handler.js'

/**
 * Why `handlerFile` cannot be the function's handler, or `undefined`. Lambda names a
 * handler by its module, without the extension (`_HANDLER=orders.handler`), and the
 * runtime loads the first of `MODULE_EXTENSIONS` that exists: the file must have one of
 * them, and no file of the same name may come before it (a stale `orders.js` next to
 * `orders.ts` would run instead). A file that does not exist is left to the caller.
 */
export function handlerFileProblem(handlerFile: string): string | undefined {
  if (!existsSync(handlerFile)) return undefined
  const extension = extname(handlerFile)
  if (!MODULE_EXTENSIONS.includes(extension)) {
    const name = basename(handlerFile)
    return `the handler must be a ${MODULE_EXTENSIONS.join(', ')} file, got ${name}`
  }
  const moduleName = basename(handlerFile, extension)
  const loaded = findModuleFile(join(dirname(handlerFile), moduleName))
  if (loaded === undefined || loaded === handlerFile) return undefined
  return (
    `${basename(handlerFile)} is not the file that would run: Lambda names the module ` +
    `"${moduleName}" without its extension, and ${basename(loaded)} next to it comes first ` +
    `(${MODULE_EXTENSIONS.join(', ')}); rename one of them`
  )
}
