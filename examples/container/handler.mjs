// A handler for the container image. The runtime applies the SNAPSTART_* variables set in
// the Dockerfile before it loads this module; withSnapStart() adds context.snapStart.
import { randomUUID } from 'node:crypto'
import { withSnapStart } from 'middy-snapstart'

// Created during init, so it is in the snapshot: the same in every restored environment.
const bootId = randomUUID()

export const handler = withSnapStart(async (event, context) => {
  const { restored, firstInvocationAfterRestore } = context.snapStart
  return {
    hello: event.name ?? 'world',
    bootId,
    // Drawn after the restore, so unique per environment: the runtime reseeded the cache.
    requestUuid: randomUUID(),
    restored,
    firstInvocationAfterRestore,
  }
})
