import path from 'node:path';
import { describeApp } from '../../scripts/localHost/app';
import { FunctionsRegistry, installFunctionsCore, type BindingInfo } from '../../scripts/localHost/core';
import { triggerBinding } from '../../scripts/localHost/invoke';

/** A function as the app registers it (`app.http`, `app.timer`, `app.storageQueue`): its trigger binding, as written. */
export interface FunctionRegistration {
  readonly name: string;
  readonly triggerType: string;
  readonly trigger: BindingInfo;
}

export interface AppRegistrations {
  readonly functions: readonly FunctionRegistration[];
  /** host.json `extensions.http.routePrefix`. */
  readonly routePrefix: string;
}

/**
 * Loads the compiled app's function files (package.json `main`) the way the local host does,
 * and lists what they registered. Loads once per process: the files register on import.
 */
let loaded: AppRegistrations | undefined;

export function appRegistrations(appRoot = path.resolve(__dirname, '..', '..', '..')): AppRegistrations {
  if (loaded !== undefined) return loaded;
  const app = describeApp(appRoot);
  const registry = new FunctionsRegistry();
  installFunctionsCore(registry, () => undefined);
  for (const file of app.functionFiles) require(file);
  const functions = [...registry.functions.values()].map((registered) => {
    const { name, type } = triggerBinding(registered);
    return { name: registered.metadata.name, triggerType: type.toLowerCase(), trigger: registered.metadata.bindings[name] ?? {} };
  });
  loaded = { functions, routePrefix: app.routePrefix };
  return loaded;
}
