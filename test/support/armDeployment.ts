import { createHash } from 'node:crypto';
import {
  ArmExpressionError,
  evaluateExpression,
  isExpression,
  parseExpression,
  unescapeLiteral,
  type ArmFunction,
  type ArmValue,
  type Expression,
} from './armExpressions';

/**
 * What a compiled ARM template would deploy, worked out offline: every resource with its
 * name, id and body evaluated, nested deployments (Bicep modules) included, and the outputs.
 * What only Azure knows at deployment time (an identity's client id, a storage account's
 * endpoints, a site's host name) becomes a placeholder derived from the resource's id, so two
 * expressions that name the same thing evaluate to the same text and different things differ.
 */

export interface DeploymentScope {
  readonly subscriptionId: string;
  readonly tenantId: string;
}

export interface DeployedResource {
  readonly type: string;
  readonly apiVersion: string;
  readonly name: string;
  readonly id: string;
  /** False when the resource's `condition` is false: ARM skips it. */
  readonly deployed: boolean;
  /** The resource as declared, every expression evaluated (properties, kind, sku, identity, scope...). */
  readonly body: Readonly<Record<string, ArmValue>>;
  /** What `reference()` returns for it: the declared properties plus the placeholders Azure would fill in. */
  readonly runtime: Readonly<Record<string, ArmValue>>;
}

export interface Deployment {
  /** Every resource of the template and of the templates nested in it. */
  readonly resources: readonly DeployedResource[];
  readonly outputs: Readonly<Record<string, ArmValue>>;
}

type Json = Record<string, unknown>;

/** A placeholder GUID for something of `resourceId` only Azure assigns (`clientId`, `principalId`, ...). */
export function placeholderGuid(...parts: readonly string[]): string {
  const hex = createHash('sha256').update(parts.join('\n').toLowerCase()).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

export function deployTemplate(template: Json, parameters: Readonly<Record<string, ArmValue>>, scope: DeploymentScope): Deployment {
  const evaluation = new TemplateEvaluation(template, parameters, { ...scope, resourceGroup: undefined });
  return { resources: evaluation.allResources(), outputs: evaluation.outputs() };
}

interface EvaluationScope extends DeploymentScope {
  /** Undefined at subscription scope. */
  readonly resourceGroup: { readonly name: string; readonly location: string } | undefined;
}

interface ResourceInstance {
  readonly raw: Json;
  readonly copyIndex: number | undefined;
}

class TemplateEvaluation {
  private readonly parameterValues = new Map<string, ArmValue>();
  private readonly variableValues = new Map<string, ArmValue>();
  private readonly evaluating = new Set<string>();
  private readonly resources: LazyResource[];

  constructor(
    private readonly template: Json,
    given: Readonly<Record<string, ArmValue>>,
    readonly scope: EvaluationScope,
  ) {
    const declared = asJson(template.parameters ?? {});
    for (const name of Object.keys(given)) {
      if (!(name in declared)) throw new ArmExpressionError(`parameter ${name} is given but the template does not declare it`);
    }
    for (const [name, definition] of Object.entries(declared)) {
      if (name in given) this.parameterValues.set(name, given[name] as ArmValue);
      else if ('defaultValue' in asJson(definition)) this.parameterValues.set(name, this.value(asJson(definition).defaultValue, undefined));
      else throw new ArmExpressionError(`parameter ${name} has no value and no default`);
    }
    const rawResources = template.resources;
    if (!Array.isArray(rawResources)) throw new ArmExpressionError('only templates with a resources array are supported (not symbolic names)');
    this.resources = rawResources.flatMap((raw) => this.instances(asJson(raw))).map((instance) => new LazyResource(this, instance));
  }

  allResources(): DeployedResource[] {
    return this.resources.flatMap((resource) => [resource.deployed(), ...resource.nested()]);
  }

  /** This template's own resources, without those of nested deployments. */
  ownResources(): DeployedResource[] {
    return this.resources.map((resource) => resource.deployed());
  }

  outputs(): Record<string, ArmValue> {
    const result: Record<string, ArmValue> = {};
    for (const [name, output] of Object.entries(asJson(this.template.outputs ?? {}))) {
      result[name] = this.value(asJson(output).value, undefined);
    }
    return result;
  }

  /** Evaluates every expression in a JSON value (object keys included), for a resource instance's copyIndex. */
  value(raw: unknown, copyIndex: number | undefined): ArmValue {
    if (typeof raw === 'string') return isExpression(raw) ? evaluateExpression(parseExpression(raw), this.functions(copyIndex)) : unescapeLiteral(raw);
    if (Array.isArray(raw)) return raw.map((item) => this.value(item, copyIndex));
    if (raw !== null && typeof raw === 'object') {
      const result: Record<string, ArmValue> = {};
      for (const [key, item] of Object.entries(raw)) result[String(this.value(key, copyIndex))] = this.value(item, copyIndex);
      return result;
    }
    if (raw === null || typeof raw === 'number' || typeof raw === 'boolean') return raw;
    throw new ArmExpressionError(`cannot evaluate ${String(raw)}`);
  }

  /** The id of a resource of `type` named `names` declared in this template, before any `scope`. */
  resourceIdAtScope(type: string, names: readonly string[]): string {
    if (this.scope.resourceGroup === undefined) {
      return `/subscriptions/${this.scope.subscriptionId}/providers/${typeAndNames(type, names)}`;
    }
    return `${this.resourceGroupId(this.scope.resourceGroup.name)}/providers/${typeAndNames(type, names)}`;
  }

  resourceGroupId(name: string): string {
    return `/subscriptions/${this.scope.subscriptionId}/resourceGroups/${name}`;
  }

  /** Guards lazily evaluated values against reference cycles. */
  once<T>(key: string, compute: () => T): T {
    if (this.evaluating.has(key)) throw new ArmExpressionError(`circular reference through ${key}`);
    this.evaluating.add(key);
    try {
      return compute();
    } finally {
      this.evaluating.delete(key);
    }
  }

  private instances(raw: Json): ResourceInstance[] {
    if (raw.copy === undefined) return [{ raw, copyIndex: undefined }];
    const count = this.value(asJson(raw.copy).count, undefined);
    if (typeof count !== 'number') throw new ArmExpressionError(`copy count of ${String(raw.name)} is not a number`);
    return Array.from({ length: count }, (_unused, index) => ({ raw, copyIndex: index }));
  }

  private variable(name: string): ArmValue {
    const known = this.variableValues.get(name);
    if (known !== undefined) return known;
    const variables = asJson(this.template.variables ?? {});
    if (!(name in variables)) throw new ArmExpressionError(`variables('${name}') is not declared`);
    const value = this.once(`variables('${name}')`, () => this.value(variables[name], undefined));
    this.variableValues.set(name, value);
    return value;
  }

  private findResource(id: string): LazyResource {
    const found = this.resources.find((resource) => resource.id().toLowerCase() === id.toLowerCase());
    if (found === undefined) throw new ArmExpressionError(`reference() to ${id}, which this template does not declare`);
    return found;
  }

  private functions(copyIndex: number | undefined): Record<string, ArmFunction> {
    const text = (value: ArmValue): string => (typeof value === 'string' ? value : JSON.stringify(value));
    const all = (args: readonly Expression[], evaluate: (expression: Expression) => ArmValue): ArmValue[] => args.map(evaluate);
    const resourceId = (values: readonly ArmValue[], level: 'resourceGroup' | 'subscription'): string => {
      const strings = values.map(text);
      const typeIndex = strings.findIndex((value) => value.includes('/'));
      if (typeIndex < 0) throw new ArmExpressionError(`resourceId(${strings.join(', ')}) names no resource type`);
      const [type, names] = [strings[typeIndex] as string, strings.slice(typeIndex + 1)];
      const before = strings.slice(0, typeIndex);
      const subscriptionId = (level === 'subscription' ? before[0] : before.length === 2 ? before[0] : undefined) ?? this.scope.subscriptionId;
      if (level === 'subscription') return `/subscriptions/${subscriptionId}/providers/${typeAndNames(type, names)}`;
      const group = before.length >= 1 ? before[before.length - 1] : this.scope.resourceGroup?.name;
      if (group === undefined) return `/subscriptions/${subscriptionId}/providers/${typeAndNames(type, names)}`;
      return `/subscriptions/${subscriptionId}/resourceGroups/${group}/providers/${typeAndNames(type, names)}`;
    };
    return {
      parameters: (args, evaluate) => {
        const name = text(evaluate(args[0] as Expression));
        if (!this.parameterValues.has(name)) throw new ArmExpressionError(`parameters('${name}') is not declared`);
        return this.parameterValues.get(name) as ArmValue;
      },
      variables: (args, evaluate) => this.variable(text(evaluate(args[0] as Expression))),
      copyindex: (args, evaluate) => {
        if (copyIndex === undefined) throw new ArmExpressionError('copyIndex() outside a copy loop');
        const offset = args.length > 0 ? evaluate(args[args.length - 1] as Expression) : 0;
        return copyIndex + (typeof offset === 'number' ? offset : 0);
      },
      format: (args, evaluate) => {
        const [pattern, ...values] = all(args, evaluate);
        return text(pattern as ArmValue).replace(/\{(\d+)(:[^}]*)?\}/g, (_match, index: string) => text(values[Number(index)] as ArmValue));
      },
      concat: (args, evaluate) => {
        const values = all(args, evaluate);
        return values.every(Array.isArray) ? values.flatMap((value) => value as ArmValue[]) : values.map(text).join('');
      },
      tolower: (args, evaluate) => text(evaluate(args[0] as Expression)).toLowerCase(),
      toupper: (args, evaluate) => text(evaluate(args[0] as Expression)).toUpperCase(),
      uniquestring: (args, evaluate) => {
        const hash = createHash('sha256').update(all(args, evaluate).map(text).join('|')).digest();
        return Array.from(hash.subarray(0, 13), (byte) => 'abcdefghijklmnopqrstuvwxyz234567'[byte % 32]).join('');
      },
      guid: (args, evaluate) => placeholderGuid('guid', ...all(args, evaluate).map(text)),
      empty: (args, evaluate) => {
        const value = evaluate(args[0] as Expression);
        if (value === null) return true;
        if (typeof value === 'string' || Array.isArray(value)) return value.length === 0;
        if (typeof value === 'object') return Object.keys(value).length === 0;
        return false;
      },
      not: (args, evaluate) => !truthy(evaluate(args[0] as Expression)),
      and: (args, evaluate) => args.every((arg) => truthy(evaluate(arg))),
      or: (args, evaluate) => args.some((arg) => truthy(evaluate(arg))),
      equals: (args, evaluate) => JSON.stringify(evaluate(args[0] as Expression)) === JSON.stringify(evaluate(args[1] as Expression)),
      if: (args, evaluate) => (truthy(evaluate(args[0] as Expression)) ? evaluate(args[1] as Expression) : evaluate(args[2] as Expression)),
      true: () => true,
      false: () => false,
      null: () => null,
      length: (args, evaluate) => {
        const value = evaluate(args[0] as Expression);
        if (typeof value === 'string' || Array.isArray(value)) return value.length;
        if (value !== null && typeof value === 'object') return Object.keys(value).length;
        throw new ArmExpressionError(`length() of ${JSON.stringify(value)}`);
      },
      createobject: (args, evaluate) => {
        const values = all(args, evaluate);
        const result: Record<string, ArmValue> = {};
        for (let index = 0; index < values.length; index += 2) result[text(values[index] as ArmValue)] = values[index + 1] as ArmValue;
        return result;
      },
      createarray: (args, evaluate) => all(args, evaluate),
      union: (args, evaluate) => {
        const values = all(args, evaluate);
        if (values.every(Array.isArray)) return [...new Set(values.flatMap((value) => (value as ArmValue[]).map((item) => JSON.stringify(item))))].map((item) => JSON.parse(item) as ArmValue);
        return Object.assign({}, ...values.map((value) => value as object)) as ArmValue;
      },
      subscription: () => ({
        id: `/subscriptions/${this.scope.subscriptionId}`,
        subscriptionId: this.scope.subscriptionId,
        tenantId: this.scope.tenantId,
      }),
      tenant: () => ({ tenantId: this.scope.tenantId }),
      resourcegroup: () => {
        const group = this.scope.resourceGroup;
        if (group === undefined) throw new ArmExpressionError('resourceGroup() in a subscription-scope template');
        return { id: this.resourceGroupId(group.name), name: group.name, location: group.location };
      },
      resourceid: (args, evaluate) => resourceId(all(args, evaluate), 'resourceGroup'),
      subscriptionresourceid: (args, evaluate) => resourceId(all(args, evaluate), 'subscription'),
      extensionresourceid: (args, evaluate) => {
        const [scopeId, type, ...names] = all(args, evaluate).map(text);
        return `${scopeId}/providers/${typeAndNames(type as string, names)}`;
      },
      reference: (args, evaluate) => {
        const values = all(args, evaluate);
        const resource = this.findResource(text(values[0] as ArmValue));
        const runtime = resource.runtime();
        return text(values[2] ?? '').toLowerCase() === 'full' ? { ...resource.deployed().body, properties: runtime } : runtime;
      },
    };
  }
}

/** One resource instance, evaluated on first use (references between resources go any way round). */
class LazyResource {
  private cachedId: string | undefined;
  private cachedDeployed: DeployedResource | undefined;
  private cachedRuntime: Record<string, ArmValue> | undefined;
  private cachedChild: TemplateEvaluation | undefined;

  constructor(
    private readonly evaluation: TemplateEvaluation,
    private readonly instance: ResourceInstance,
  ) {}

  id(): string {
    this.cachedId ??= this.evaluation.once(`id of ${String(this.instance.raw.name)}`, () => this.computeId());
    return this.cachedId;
  }

  deployed(): DeployedResource {
    this.cachedDeployed ??= this.evaluation.once(`body of ${this.id()}`, () => {
      const { raw, copyIndex } = this.instance;
      // A nested template's expressions belong to it: they are evaluated by its own evaluation (nested()).
      const declared = isDeployment(raw) ? { ...raw, properties: withoutKeys(asJson(raw.properties), ['template']) } : raw;
      const body = this.evaluation.value(withoutKeys(declared, ['copy', 'condition', 'dependsOn']), copyIndex) as Record<string, ArmValue>;
      const deployed = raw.condition === undefined ? true : truthy(this.evaluation.value(raw.condition, copyIndex));
      const runtime = (): Readonly<Record<string, ArmValue>> => this.runtime();
      return {
        type: String(raw.type),
        apiVersion: String(raw.apiVersion),
        name: String(body.name),
        id: this.id(),
        deployed,
        body,
        get runtime() {
          return runtime();
        },
      };
    });
    return this.cachedDeployed;
  }

  runtime(): Record<string, ArmValue> {
    this.cachedRuntime ??= this.evaluation.once(`runtime of ${this.id()}`, () => this.computeRuntime());
    return this.cachedRuntime;
  }

  /** The resources of the template this one deploys (a Bicep module), or none. */
  nested(): DeployedResource[] {
    return this.child()?.allResources() ?? [];
  }

  private child(): TemplateEvaluation | undefined {
    const { raw, copyIndex } = this.instance;
    if (!isDeployment(raw)) return undefined;
    if (this.cachedChild !== undefined) return this.cachedChild;
    const properties = asJson(raw.properties);
    if (asJson(properties.expressionEvaluationOptions ?? {}).scope !== 'inner') {
      throw new ArmExpressionError(`nested deployment ${String(raw.name)} must use inner expression scope`);
    }
    const given: Record<string, ArmValue> = {};
    for (const [name, parameter] of Object.entries(asJson(properties.parameters ?? {}))) {
      given[name] = this.evaluation.value(asJson(parameter).value, copyIndex);
    }
    const groupName = raw.resourceGroup === undefined ? this.evaluation.scope.resourceGroup?.name : String(this.evaluation.value(raw.resourceGroup, copyIndex));
    if (groupName === undefined) throw new ArmExpressionError(`nested deployment ${String(raw.name)} has no resource group`);
    const group = this.evaluation.ownResources().find((resource) => resource.type.toLowerCase() === 'microsoft.resources/resourcegroups' && resource.name === groupName);
    const location = group?.body.location ?? this.evaluation.scope.resourceGroup?.location ?? '';
    this.cachedChild = new TemplateEvaluation(asJson(properties.template), given, {
      subscriptionId: this.evaluation.scope.subscriptionId,
      tenantId: this.evaluation.scope.tenantId,
      resourceGroup: { name: groupName, location: String(location) },
    });
    return this.cachedChild;
  }

  private computeId(): string {
    const { raw, copyIndex } = this.instance;
    const type = String(raw.type);
    const names = String(this.evaluation.value(raw.name, copyIndex)).split('/');
    if (raw.scope !== undefined) {
      const scope = String(this.evaluation.value(raw.scope, copyIndex));
      const scopeId = scope.startsWith('/') ? scope : this.evaluation.resourceIdAtScope(scope.split('/').slice(0, -1).join('/'), [scope.split('/').pop() as string]);
      return `${scopeId}/providers/${typeAndNames(type, names)}`;
    }
    if (type.toLowerCase() === 'microsoft.resources/resourcegroups') return this.evaluation.resourceGroupId(names[0] as string);
    if (raw.resourceGroup !== undefined) {
      return `${this.evaluation.resourceGroupId(String(this.evaluation.value(raw.resourceGroup, copyIndex)))}/providers/${typeAndNames(type, names)}`;
    }
    return this.evaluation.resourceIdAtScope(type, names);
  }

  private computeRuntime(): Record<string, ArmValue> {
    const { body } = this.deployed();
    const declared = (body.properties ?? {}) as Record<string, ArmValue>;
    const id = this.id();
    const name = body.name as string;
    switch (String(this.instance.raw.type).toLowerCase()) {
      case 'microsoft.managedidentity/userassignedidentities':
        return { ...declared, clientId: placeholderGuid('clientId', id), principalId: placeholderGuid('principalId', id), tenantId: this.evaluation.scope.tenantId };
      case 'microsoft.storage/storageaccounts':
        return {
          ...declared,
          primaryEndpoints: Object.fromEntries(['blob', 'queue', 'table', 'file', 'dfs'].map((service) => [service, `https://${name}.${service}.core.windows.net/`])),
        };
      case 'microsoft.web/sites':
        return { ...declared, defaultHostName: `${name}.azurewebsites.net` };
      case 'microsoft.insights/components': {
        const key = placeholderGuid('instrumentationKey', id);
        return { ...declared, InstrumentationKey: key, ConnectionString: `InstrumentationKey=${key};IngestionEndpoint=https://${String(body.location)}.in.applicationinsights.azure.com/` };
      }
      case 'microsoft.resources/deployments': {
        const outputs = this.child()?.outputs() ?? {};
        return { outputs: Object.fromEntries(Object.entries(outputs).map(([key, value]) => [key, { value }])) };
      }
      default:
        return declared;
    }
  }
}

/** `Microsoft.Storage/storageAccounts/blobServices` and [`st1`, `default`] → `Microsoft.Storage/storageAccounts/st1/blobServices/default`. */
function typeAndNames(type: string, names: readonly string[]): string {
  const [namespace, ...types] = type.split('/');
  if (types.length !== names.length) throw new ArmExpressionError(`${type} needs ${types.length} name segments, got "${names.join('/')}"`);
  return [namespace, ...types.flatMap((segment, index) => [segment, names[index]])].join('/');
}

function isDeployment(raw: Json): boolean {
  return String(raw.type).toLowerCase() === 'microsoft.resources/deployments';
}

function truthy(value: ArmValue): boolean {
  if (typeof value !== 'boolean') throw new ArmExpressionError(`expected true or false, got ${JSON.stringify(value)}`);
  return value;
}

function asJson(value: unknown): Json {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new ArmExpressionError(`expected an object, got ${JSON.stringify(value)}`);
  return value as Json;
}

function withoutKeys(raw: Json, keys: readonly string[]): Json {
  return Object.fromEntries(Object.entries(raw).filter(([key]) => !keys.includes(key)));
}
