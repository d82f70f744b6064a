import { readFileSync } from 'node:fs'
import { defineConfig } from 'tsup'

const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }

// One entry per public module. Names here become the files under dist/ that
// package.json's exports map points at.
export const entries = {
  index: 'src/index.ts',
  runtime: 'src/runtime/index.ts',
  emulator: 'src/emulator/index.ts',
  'pool-reset': 'middlewares/pool-reset/index.ts',
  'secret-refresh': 'middlewares/secret-refresh/index.ts',
  'rng-reseed': 'middlewares/rng-reseed/index.ts',
  snapshot: 'src/snapshot/index.ts',
  'web-adapter': 'middlewares/web-adapter/index.ts',
}

// Executables ship as ESM only: bins are started by node, never required.
export const bins = {
  'runtime-bin': 'src/runtime/bin.ts',
  'emulator-cli': 'src/emulator/cli.ts',
  // Not started by node directly: bundled by the snapshot mode into each snapshot's entry.
  'snapshot-entry': 'src/snapshot/entry.ts',
}

export default defineConfig([
  {
    entry: entries,
    format: ['esm', 'cjs'],
    dts: true,
    clean: true,
    sourcemap: true,
    target: 'node20',
    platform: 'node',
    splitting: false,
    shims: true,
    define: { __SNAPSTART_VERSION__: JSON.stringify(version) },
  },
  {
    entry: bins,
    format: ['esm'],
    dts: false,
    sourcemap: true,
    target: 'node20',
    platform: 'node',
    splitting: false,
    define: { __SNAPSTART_VERSION__: JSON.stringify(version) },
  },
])
