// Replaced by tsup at build time with package.json's version; tests read the source.
declare const __SNAPSTART_VERSION__: string | undefined

/** This copy's version, used to detect several copies of different versions in a process. */
export const VERSION: string =
  typeof __SNAPSTART_VERSION__ === 'string' ? __SNAPSTART_VERSION__ : '0.0.0-source'
