import Module from 'node:module';
import path from 'node:path';

/**
 * The part of the `@azure/functions-core` API (normally injected by the
 * Functions Node worker) that `@azure/functions` 4.x uses. The package ships no
 * typings for it, so the shapes the local host relies on are declared here.
 */

export type LogLevel = 'trace' | 'debug' | 'information' | 'warning' | 'error' | 'critical' | 'none';
export type LogCategory = 'user' | 'system' | 'customMetric';

export interface BindingInfo {
  readonly type?: string | null;
  readonly direction?: 'in' | 'out' | 'inout' | null;
  readonly methods?: readonly string[] | null;
  readonly route?: string | null;
  readonly schedule?: string | null;
  readonly runOnStartup?: boolean | null;
  readonly queueName?: string | null;
  readonly connection?: string | null;
}

export interface FunctionMetadata {
  readonly name: string;
  readonly bindings: Readonly<Record<string, BindingInfo>>;
}

export type FunctionCallback = (...args: unknown[]) => unknown;

export interface HttpData {
  method?: string | null;
  url?: string | null;
  headers?: Record<string, string> | null;
  params?: Record<string, string> | null;
  query?: Record<string, string> | null;
  body?: TypedData | null;
  statusCode?: string | null;
  cookies?: HttpCookie[] | null;
}

export interface HttpCookie {
  name?: string | null;
  value?: string | null;
  domain?: { value?: string | null } | null;
  path?: { value?: string | null } | null;
  expires?: { value?: { seconds?: number | string | null } | null } | null;
  secure?: { value?: boolean | null } | null;
  httpOnly?: { value?: boolean | null } | null;
  sameSite?: string | number | null;
  maxAge?: { value?: number | null } | null;
}

export interface TypedData {
  string?: string | null;
  json?: string | null;
  bytes?: Uint8Array | null;
  http?: HttpData | null;
}

export interface InvocationRequest {
  invocationId: string;
  inputData: { name: string; data: TypedData }[];
  triggerMetadata: Record<string, TypedData>;
}

export interface InvocationResponse {
  invocationId?: string | null;
  returnValue?: TypedData | null;
}

export type InvocationState = 'preInvocationHooks' | 'postInvocationHooks' | 'invocation';

export interface CoreInvocationContext {
  invocationId: string;
  request: InvocationRequest;
  metadata: FunctionMetadata;
  state?: InvocationState;
  log(level: LogLevel, category: LogCategory, message: string): void;
}

export interface InvocationModel {
  getArguments(): Promise<{ context: unknown; inputs: unknown[] }>;
  invokeFunction(context: unknown, inputs: unknown[], handler: FunctionCallback): Promise<unknown>;
  getResponse(context: unknown, result: unknown): Promise<InvocationResponse>;
}

export interface ProgrammingModel {
  readonly name: string;
  readonly version: string;
  getInvocationModel(coreContext: CoreInvocationContext): InvocationModel;
}

/** What a hook callback gets; the package wraps it in its own hook context classes. */
export type HookContext = Record<string, unknown>;
export type HookCallback = (context: HookContext) => void | Promise<void>;

export interface Disposable {
  dispose(): void;
}

export interface RegisteredFunction {
  readonly metadata: FunctionMetadata;
  readonly handler: FunctionCallback;
}

/** Everything the app registered while its files were loaded. */
export class FunctionsRegistry {
  programmingModel: ProgrammingModel | undefined;
  readonly functions = new Map<string, RegisteredFunction>();
  readonly hooks = new Map<string, HookCallback[]>();
  /** Shared by all hooks of the app, like the worker's `appHookData`. */
  readonly appHookData: Record<string, unknown> = {};

  hooksNamed(name: string): readonly HookCallback[] {
    return this.hooks.get(name) ?? [];
  }
}

export type SystemLog = (level: LogLevel, message: string) => void;

const coreModuleName = '@azure/functions-core';
// Never a real file: the key under which the module lives in require.cache.
const coreModuleId = path.join(__dirname, '__virtual__', 'azure-functions-core.js');

interface ModuleInternals {
  _resolveFilename(request: string, ...rest: unknown[]): string;
}

/**
 * Makes `require('@azure/functions-core')` return an API backed by `registry`,
 * as the Functions worker does. Call before the app's files are required.
 */
export function installFunctionsCore(registry: FunctionsRegistry, systemLog: SystemLog): void {
  const api = {
    version: '4.0.0-localhost',
    hostVersion: '4.0.0-localhost',
    setProgrammingModel(model: ProgrammingModel): void {
      registry.programmingModel = model;
    },
    getProgrammingModel(): ProgrammingModel | undefined {
      return registry.programmingModel;
    },
    registerFunction(metadata: FunctionMetadata, handler: FunctionCallback): Disposable {
      if (registry.functions.has(metadata.name)) {
        throw new Error(`A function named "${metadata.name}" is already registered`);
      }
      registry.functions.set(metadata.name, { metadata, handler });
      return { dispose: () => void registry.functions.delete(metadata.name) };
    },
    registerHook(hookName: string, callback: HookCallback): Disposable {
      const callbacks = registry.hooks.get(hookName) ?? [];
      callbacks.push(callback);
      registry.hooks.set(hookName, callbacks);
      return {
        dispose: () => {
          const index = callbacks.indexOf(callback);
          if (index >= 0) callbacks.splice(index, 1);
        },
      };
    },
    log(level: LogLevel, _category: LogCategory, message: string): void {
      systemLog(level, message);
    },
  };

  const coreModule = new Module(coreModuleId);
  coreModule.filename = coreModuleId;
  coreModule.loaded = true;
  coreModule.exports = api;
  require.cache[coreModuleId] = coreModule;

  const internals = Module as unknown as ModuleInternals;
  const resolveFilename = internals._resolveFilename;
  internals._resolveFilename = function (request: string, ...rest: unknown[]): string {
    return request === coreModuleName ? coreModuleId : resolveFilename.call(this, request, ...rest);
  };
}
