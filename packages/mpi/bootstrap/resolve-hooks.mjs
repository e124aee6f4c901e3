// Module resolve hook installed in every rank's worker thread (see ../src/launcher/job.ts).
//
// Why: a rank's program may live anywhere on disk (a temp dir, a user's home) and still import
// '@tsmpi/mpi'. Every '@tsmpi/*' specifier is resolved as if imported by the launcher itself, so the
// program gets the very runtime instance that started the rank. When the launcher runs from src/
// (tests, TSMPI_SOURCE=1), the "source" export condition is added so siblings resolve to src/ too,
// never to a possibly stale dist/.
let anchorURL;
let source = false;

export async function initialize(data) {
  anchorURL = data.anchorURL;
  source = data.source;
}

export async function resolve(specifier, context, nextResolve) {
  if (specifier.startsWith('@tsmpi/')) {
    const conditions = source ? [...new Set([...(context.conditions ?? []), 'source'])] : context.conditions;
    return nextResolve(specifier, { ...context, parentURL: anchorURL, conditions });
  }
  return nextResolve(specifier, context);
}
