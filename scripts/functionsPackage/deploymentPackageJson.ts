/**
 * package.json as it is deployed: what the Functions host reads (`main`) and
 * what describes the installed production tree, without the developer's
 * scripts and dev dependencies (no build runs in Azure: the package is prebuilt).
 */
const keptFields = ['name', 'version', 'private', 'description', 'type', 'main', 'engines', 'dependencies'] as const;

export function deploymentPackageJson(projectPackageJson: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const deployed: Record<string, unknown> = {};
  for (const field of keptFields) {
    if (projectPackageJson[field] !== undefined) deployed[field] = projectPackageJson[field];
  }
  return deployed;
}
