import { randomUUID } from 'node:crypto';
import type {
  CoreInvocationContext,
  FunctionsRegistry,
  HookContext,
  InvocationResponse,
  RegisteredFunction,
  TypedData,
} from './core';
import { describeError, type HostLog } from './log';

export type InvocationResult =
  | { readonly succeeded: true; readonly response: InvocationResponse }
  | { readonly succeeded: false; readonly error: unknown };

/**
 * Runs one invocation the way the Functions Node worker does: through the
 * programming model the package registered (so the handler sees the package's
 * own HttpRequest/InvocationContext), with pre/post invocation hooks, and logs
 * one `Executed 'Functions.<name>' (...)` line.
 */
export async function invokeFunction(
  registry: FunctionsRegistry,
  log: HostLog,
  registered: RegisteredFunction,
  triggerData: TypedData,
  description = '',
  triggerMetadata: Record<string, TypedData> = {},
): Promise<InvocationResult> {
  const started = performance.now();
  const invocationId = randomUUID();
  const result = await runInvocation(registry, log, registered, invocationId, triggerData, triggerMetadata);
  const durationMs = Math.round(performance.now() - started);
  const status = result.succeeded ? 'Succeeded' : 'Failed';
  const httpStatus = result.succeeded ? result.response.returnValue?.http?.statusCode : undefined;
  const request = description === '' ? '' : ` ${description}${httpStatus ? ` -> ${httpStatus}` : ''}`;
  const line = `Executed 'Functions.${registered.metadata.name}' (${status}, Id=${invocationId}, Duration=${durationMs}ms)${request}`;
  if (result.succeeded) {
    log.info(line);
  } else {
    log.error(line);
    log.error(`Function '${registered.metadata.name}' failed: ${describeError(result.error)}`);
  }
  return result;
}

async function runInvocation(
  registry: FunctionsRegistry,
  log: HostLog,
  registered: RegisteredFunction,
  invocationId: string,
  triggerData: TypedData,
  triggerMetadata: Record<string, TypedData>,
): Promise<InvocationResult> {
  const model = registry.programmingModel;
  if (model === undefined) return { succeeded: false, error: new Error('the app registered no programming model') };
  const { metadata } = registered;
  const coreContext: CoreInvocationContext = {
    invocationId,
    metadata,
    request: { invocationId, inputData: [{ name: triggerBindingName(registered), data: triggerData }], triggerMetadata },
    log: (level, _category, message) => log.write(level, message),
  };
  try {
    const invocation = model.getInvocationModel(coreContext);
    const { context, inputs } = await invocation.getArguments();
    const hookData: Record<string, unknown> = {};

    const preInvocation: HookContext = {
      hookData,
      appHookData: registry.appHookData,
      invocationContext: context,
      inputs,
      functionCallback: registered.handler,
    };
    coreContext.state = 'preInvocationHooks';
    for (const hook of registry.hooksNamed('preInvocation')) await hook(preInvocation);

    coreContext.state = 'invocation';
    let result: unknown;
    let error: unknown;
    try {
      const handler = preInvocation.functionCallback;
      const hookInputs = preInvocation.inputs;
      result = await invocation.invokeFunction(
        context,
        Array.isArray(hookInputs) ? hookInputs : inputs,
        typeof handler === 'function' ? (...args: unknown[]): unknown => handler(...args) : registered.handler,
      );
    } catch (thrown) {
      error = thrown;
    }

    const postInvocation: HookContext = {
      hookData,
      appHookData: registry.appHookData,
      invocationContext: context,
      inputs,
      result,
      error,
    };
    coreContext.state = 'postInvocationHooks';
    for (const hook of registry.hooksNamed('postInvocation')) await hook(postInvocation);
    if (postInvocation.error !== undefined && postInvocation.error !== null) {
      return { succeeded: false, error: postInvocation.error };
    }
    return { succeeded: true, response: await invocation.getResponse(context, postInvocation.result) };
  } catch (error) {
    return { succeeded: false, error };
  }
}

export function triggerBinding(registered: RegisteredFunction): { name: string; type: string } {
  for (const [name, binding] of Object.entries(registered.metadata.bindings)) {
    const type = binding.type ?? '';
    if (binding.direction === 'in' && type.toLowerCase().endsWith('trigger')) return { name, type };
  }
  throw new Error(`function "${registered.metadata.name}" has no trigger binding`);
}

function triggerBindingName(registered: RegisteredFunction): string {
  return triggerBinding(registered).name;
}
