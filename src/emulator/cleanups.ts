/**
 * What an interrupted CLI must stop or wait for: the emulator, a running `--while-frozen`
 * command, the snapshot's directories to remove, and the run itself. The bin calls each on
 * SIGINT and SIGTERM and waits for them all before it exits.
 */
export const cleanups = new Set<() => unknown>()
