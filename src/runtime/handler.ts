import { existsSync, realpathSync, statSync } from 'node:fs'
import { isAbsolute, relative, resolve, sep } from 'node:path'
import { pathToFileURL } from 'node:url'
import { errorText } from '../describe.js'
import {
  HandlerNotFoundError,
  ImportModuleError,
  MalformedHandlerNameError,
  UserCodeSyntaxError,
} from './errors.js'
import { findExport } from './export-path.js'
import { isStreamingHandler } from './streaming.js'

/** A handler as the runtime calls it: async `(event, context)` or `(event, context, cb)`. */
export type HandlerFunction = (event: unknown, context: any, callback?: any) => unknown

/** What `loadHandler` found. */
export interface LoadedHandler {
  fn: HandlerFunction
  /** The file that was imported. */
  file: string
  /** True when the handler was wrapped with `awslambda.streamifyResponse`. */
  streaming: boolean
}

const JS_EXTENSIONS = ['.js', '.mjs', '.cjs']
const TS_EXTENSIONS = ['.ts', '.mts', '.cts']
/** The extensions a handler module may have, in the order the runtime tries them. */
export const MODULE_EXTENSIONS: readonly string[] = [...JS_EXTENSIONS, ...TS_EXTENSIONS]

/**
 * Loads the handler named by `spec` (`_HANDLER`: `path/module.export`, nested exports as
 * `module.a.b`) from under `taskRoot`. The module file is `module` plus `.js`, `.mjs` or
 * `.cjs` (then `.ts`, `.mts`, `.cts`, which need a TypeScript loader such as `tsx`),
 * imported with `import()`, so ESM and CommonJS both work. Throws a `RuntimeError` subclass
 * named for the Lambda error type: `Runtime.MalformedHandlerName` (also for a path that
 * leaves the task root), `Runtime.ImportModuleError`, `Runtime.UserCodeSyntaxError` or
 * `Runtime.HandlerNotFound` (also for a name that is only reachable through a prototype:
 * each part of the export path must be an own property).
 */
export async function loadHandler(
  taskRoot: string,
  spec: string | undefined,
): Promise<LoadedHandler> {
  const { modulePath, exportPath } = parseHandler(spec)
  const root = resolve(taskRoot)
  const target = resolve(root, modulePath)
  if (!isInside(root, target)) {
    throw new MalformedHandlerNameError(
      `Bad handler "${spec}": the module path "${modulePath}" leaves the task root ${root}`,
    )
  }

  const file = findModuleFile(target)
  if (file === undefined) {
    throw new ImportModuleError(
      `Cannot find module "${modulePath}" under ${root}: tried ` +
        `${[...JS_EXTENSIONS, ...TS_EXTENSIONS].join(', ')}`,
    )
  }
  if (!isInside(realpathSync(root), realpathSync(file))) {
    throw new MalformedHandlerNameError(
      `Bad handler "${spec}": "${modulePath}" resolves (through a link) outside the task root`,
    )
  }

  const namespace = await importModule(file, modulePath)
  const fn = findExport(namespace, exportPath)
  if (typeof fn !== 'function') {
    throw new HandlerNotFoundError(
      `${modulePath}.${exportPath} is ` +
        (fn === undefined ? 'undefined or not exported' : `not a function (${typeof fn})`),
    )
  }
  return { fn: fn as HandlerFunction, file, streaming: isStreamingHandler(fn) }
}

/** Splits `dir/module.a.b` into `dir/module` and `a.b`. */
export function parseHandler(spec: string | undefined): { modulePath: string; exportPath: string } {
  if (spec === undefined || spec.trim() === '') {
    throw new MalformedHandlerNameError(
      'No handler given: set _HANDLER to "path/module.export", for example "index.handler"',
    )
  }
  const slash = spec.lastIndexOf('/')
  const base = spec.slice(slash + 1)
  const dot = base.indexOf('.')
  const exportPath = dot === -1 ? '' : base.slice(dot + 1)
  if (dot <= 0 || exportPath === '' || exportPath.split('.').some((part) => part === '')) {
    throw new MalformedHandlerNameError(
      `Bad handler "${spec}": expected "path/module.export", for example "index.handler"`,
    )
  }
  return { modulePath: spec.slice(0, slash + 1) + base.slice(0, dot), exportPath }
}

/** True when `target` is below `root`; a name that merely starts with `..` stays inside. */
function isInside(root: string, target: string): boolean {
  const rel = relative(root, target)
  if (rel === '' || rel === '..' || isAbsolute(rel)) return false
  return !rel.startsWith(`..${sep}`)
}

/**
 * The file the runtime loads for the module path `target` (no extension): the first of
 * `MODULE_EXTENSIONS` that exists, or `undefined`.
 */
export function findModuleFile(target: string): string | undefined {
  for (const extension of MODULE_EXTENSIONS) {
    const candidate = target + extension
    if (existsSync(candidate) && statSync(candidate).isFile()) return candidate
  }
  return undefined
}

async function importModule(file: string, modulePath: string): Promise<Record<string, unknown>> {
  try {
    return (await import(pathToFileURL(file).href)) as Record<string, unknown>
  } catch (error) {
    const described = error instanceof Error ? errorText(error) : String(error)
    if (error instanceof SyntaxError) {
      throw new UserCodeSyntaxError(described, error)
    }
    const code = (error as { code?: unknown } | null)?.code
    if (code === 'ERR_UNKNOWN_FILE_EXTENSION') {
      throw new ImportModuleError(
        `Cannot load ${file}: no TypeScript loader is active; start node with --import tsx`,
        error,
      )
    }
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
      throw new ImportModuleError(`Error loading "${modulePath}": ${described}`, error)
    }
    throw new ImportModuleError(`"${modulePath}" threw while loading: ${described}`, error)
  }
}
