import { describeApp } from '../../scripts/localHost/app';
import { FunctionsRegistry, installFunctionsCore } from '../../scripts/localHost/core';
import { repoRoot } from './appProcess';

/**
 * The HTTP routes the app registers, read from the code itself: the compiled
 * function files named by package.json `main` are loaded against a capturing
 * `@azure/functions-core`, as the local host loads them, and every HTTP
 * trigger's route, methods and auth level is listed. Nothing is invoked.
 * Call once per process (the files register themselves when first loaded).
 */

export interface RegisteredRoute {
  readonly functionName: string;
  /** The route template as registered (the function name when it has none), without the `api/` prefix. */
  readonly template: string;
  /** The same path as an OpenAPI path: `/console/{asset}` for `console/{*asset}`. */
  readonly openApiPath: string;
  /** Upper case. */
  readonly methods: readonly string[];
  readonly authLevel: string;
}

export function registeredHttpRoutes(appRoot = repoRoot): RegisteredRoute[] {
  const registry = new FunctionsRegistry();
  installFunctionsCore(registry, () => undefined);
  for (const file of describeApp(appRoot).functionFiles) require(file);
  const routes: RegisteredRoute[] = [];
  for (const { metadata } of registry.functions.values()) {
    for (const binding of Object.values(metadata.bindings) as (Record<string, unknown> & { type?: string | null })[]) {
      if (binding.type?.toLowerCase() !== 'httptrigger') continue;
      const template = typeof binding['route'] === 'string' && binding['route'] !== '' ? binding['route'] : metadata.name;
      const methods = Array.isArray(binding['methods']) ? binding['methods'].map((method) => String(method).toUpperCase()) : [];
      routes.push({
        functionName: metadata.name,
        template,
        openApiPath: toOpenApiPath(template),
        methods,
        authLevel: String(binding['authLevel'] ?? 'anonymous').toLowerCase(),
      });
    }
  }
  return routes;
}

/** `notifications/{id:regex(...)}` → `/notifications/{id}`; catch-all, optional and default markers dropped. */
export function toOpenApiPath(template: string): string {
  const path = template.replace(/\{\**([A-Za-z_][A-Za-z0-9_]*)[^}]*\}/g, '{$1}');
  return `/${path.replace(/^\/+|\/+$/g, '')}`;
}
