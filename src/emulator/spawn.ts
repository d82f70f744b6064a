import { existsSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { EmulatorError } from './errors.js'

const PACKAGE_NAME = 'middy-snapstart'
const TS_EXTENSIONS = new Set(['.ts', '.mts', '.cts'])

/**
 * This package's root directory, found by walking up from this module's own file, so it
 * works from `dist/` (the built package) and from `src/emulator/` (tests on the source).
 */
export function packageRoot(): string {
  const here = fileURLToPath(import.meta.url)
  let dir = dirname(here)
  for (;;) {
    const manifest = join(dir, 'package.json')
    if (existsSync(manifest)) {
      const { name } = JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }
      if (name === PACKAGE_NAME) return dir
    }
    const parent = dirname(dir)
    if (parent === dir) {
      throw new EmulatorError({
        errorType: 'Runtime.InvalidEntrypoint',
        errorMessage: `Cannot find the ${PACKAGE_NAME} package above ${dirname(here)}`,
      })
    }
    dir = parent
  }
}

/** The built `snapstart-runtime` entry point. */
export function runtimeBinPath(root: string = packageRoot()): string {
  const bin = join(root, 'dist', 'runtime-bin.js')
  if (!existsSync(bin)) {
    throw new EmulatorError({
      errorType: 'Runtime.InvalidEntrypoint',
      errorMessage: `${bin} does not exist; build the package first (npm run build)`,
    })
  }
  return bin
}

/** Node arguments that let the runtime import the handler: a TS loader for TypeScript. */
export function loaderArgs(handlerFile: string, root: string = packageRoot()): string[] {
  const extension = handlerFile.slice(handlerFile.lastIndexOf('.'))
  if (!TS_EXTENSIONS.has(extension)) return []
  const tsx = createRequire(join(root, 'package.json')).resolve('tsx')
  return ['--import', pathToFileURL(tsx).href]
}
