// Resolve hook for running the CLI from source (TSMPI_SOURCE=1 or no dist/ built yet): sibling
// packages are imported through their "source" export condition (src/index.ts), not dist/.
export async function resolve(specifier, context, nextResolve) {
  if (specifier.startsWith('@tsmpi/')) {
    return nextResolve(specifier, { ...context, conditions: [...new Set([...(context.conditions ?? []), 'source'])] });
  }
  return nextResolve(specifier, context);
}
