/**
 * Route templates as the Functions host (ASP.NET Core routing) reads them:
 * `items/{id:int}`, `files/{name?}`, `{file}.{ext}`, `docs/{*path}`,
 * `{lang=en}`, constraints `int long bool guid alpha decimal double float
 * datetime min(n) max(n) range(a,b) minlength(n) maxlength(n) length(n[,m])
 * regex(expr)`. Literals match case-insensitively.
 */

export type RouteParams = Record<string, string>;

interface RouteParameter {
  readonly name: string;
  readonly optional: boolean;
  readonly catchAll: boolean;
  readonly defaultValue: string | undefined;
  readonly constraints: readonly Constraint[];
}

type Constraint = (value: string) => boolean;

export class RouteTemplateError extends Error {
  constructor(template: string, problem: string) {
    super(`Route template "${template}": ${problem}`);
    this.name = 'RouteTemplateError';
  }
}

export class CompiledRoute {
  private readonly pattern: RegExp;
  private readonly parameters: RouteParameter[] = [];
  /** Per segment: 1 literal, 2 mixed, 3 constrained parameter, 4 parameter, 5 catch-all (lower wins). */
  readonly precedence: number[] = [];

  constructor(readonly template: string) {
    const segments = template === '' ? [] : template.split('/');
    let source = '^';
    segments.forEach((segment, index) => {
      const isLast = index === segments.length - 1;
      source += this.compileSegment(segment, isLast);
    });
    this.pattern = new RegExp(`${source}/?$`, 'i');
  }

  /** The route values for a URL path such as `/api/items/7`, or undefined when it does not match. */
  match(pathname: string): RouteParams | undefined {
    const found = this.pattern.exec(pathname === '' ? '/' : pathname);
    if (found === null) return undefined;
    const params: RouteParams = {};
    for (const [index, parameter] of this.parameters.entries()) {
      const raw = found[index + 1];
      const value = raw === undefined || raw === '' ? parameter.defaultValue : safeDecode(raw);
      if (value === undefined) {
        if (!parameter.optional) return undefined;
        continue;
      }
      if (!parameter.constraints.every((accepts) => accepts(value))) return undefined;
      params[parameter.name] = value;
    }
    return params;
  }

  private compileSegment(segment: string, isLast: boolean): string {
    const parts = splitSegment(this.template, segment);
    const [onlyPart] = parts;
    if (parts.length === 1 && onlyPart !== undefined && typeof onlyPart !== 'string') {
      const parameter = parseParameter(this.template, onlyPart.text);
      this.parameters.push(parameter);
      if (parameter.catchAll) {
        if (!isLast) throw new RouteTemplateError(this.template, 'a catch-all parameter must be the last segment');
        this.precedence.push(5);
        return '(?:/(.*))?';
      }
      this.precedence.push(parameter.constraints.length > 0 ? 3 : 4);
      return parameter.optional ? '(?:/([^/]+))?' : '/([^/]+)';
    }
    this.precedence.push(parts.every((part) => typeof part === 'string') ? 1 : 2);
    let source = '/';
    for (const part of parts) {
      if (typeof part === 'string') {
        source += escapeRegExp(part);
        continue;
      }
      const parameter = parseParameter(this.template, part.text);
      if (parameter.catchAll) throw new RouteTemplateError(this.template, 'a catch-all parameter must be a whole segment');
      this.parameters.push(parameter);
      source += parameter.optional ? '([^/]*?)' : '([^/]+?)';
    }
    return source;
  }
}

/** Orders routes so that more specific templates are tried first, as ASP.NET Core does. */
export function compareRoutePrecedence(left: CompiledRoute, right: CompiledRoute): number {
  const length = Math.max(left.precedence.length, right.precedence.length);
  for (let index = 0; index < length; index++) {
    const difference = (left.precedence[index] ?? 0) - (right.precedence[index] ?? 0);
    if (difference !== 0) return difference;
  }
  return 0;
}

function splitSegment(template: string, segment: string): (string | { text: string })[] {
  const parts: (string | { text: string })[] = [];
  let rest = segment;
  while (rest !== '') {
    const open = rest.indexOf('{');
    if (open < 0) {
      parts.push(rest);
      break;
    }
    if (open > 0) parts.push(rest.slice(0, open));
    const close = findClosingBrace(rest, open);
    if (close < 0) throw new RouteTemplateError(template, `unclosed "{" in "${segment}"`);
    parts.push({ text: rest.slice(open + 1, close) });
    rest = rest.slice(close + 1);
  }
  if (segment === '') throw new RouteTemplateError(template, 'empty segment');
  return parts;
}

function findClosingBrace(text: string, open: number): number {
  let parentheses = 0;
  for (let index = open + 1; index < text.length; index++) {
    const char = text[index];
    if (char === '(') parentheses++;
    else if (char === ')') parentheses--;
    else if (char === '}' && parentheses === 0) return index;
  }
  return -1;
}

function parseParameter(template: string, text: string): RouteParameter {
  let body = text;
  const catchAll = body.startsWith('*');
  if (catchAll) body = body.replace(/^\*+/, '');
  let optional = catchAll;
  if (body.endsWith('?')) {
    optional = true;
    body = body.slice(0, -1);
  }
  let defaultValue: string | undefined;
  const equals = indexOutsideParentheses(body, '=');
  if (equals >= 0) {
    defaultValue = body.slice(equals + 1);
    body = body.slice(0, equals);
  }
  const [name = '', ...constraintTexts] = splitConstraints(body);
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new RouteTemplateError(template, `bad parameter name in "{${text}}"`);
  return {
    name,
    optional: optional || defaultValue !== undefined,
    catchAll,
    defaultValue,
    constraints: constraintTexts.map((constraint) => parseConstraint(template, constraint)),
  };
}

function indexOutsideParentheses(text: string, wanted: string): number {
  let parentheses = 0;
  for (let index = 0; index < text.length; index++) {
    const char = text[index];
    if (char === '(') parentheses++;
    if (char === ')') parentheses--;
    if (char === wanted && parentheses === 0) return index;
  }
  return -1;
}

/** Splits `id:int:range(1,10)` on the colons that are not inside parentheses. */
function splitConstraints(text: string): string[] {
  const pieces: string[] = [];
  let current = '';
  let parentheses = 0;
  for (const char of text) {
    if (char === '(') parentheses++;
    if (char === ')') parentheses--;
    if (char === ':' && parentheses === 0) {
      pieces.push(current);
      current = '';
    } else {
      current += char;
    }
  }
  pieces.push(current);
  return pieces;
}

function parseConstraint(template: string, text: string): Constraint {
  const found = /^([a-z]+)(?:\((.*)\))?$/i.exec(text);
  const kind = found?.[1]?.toLowerCase();
  const argument = found?.[2] ?? '';
  const numbers = argument.split(',').map((piece) => Number(piece.trim()));
  const [first = NaN, second = NaN] = numbers;
  const integer = (value: string): boolean => /^-?\d+$/.test(value);
  const number = (value: string): boolean => value.trim() !== '' && Number.isFinite(Number(value));
  switch (kind) {
    case 'int':
      return (value) => integer(value) && Math.abs(Number(value)) <= 2 ** 31;
    case 'long':
      return integer;
    case 'bool':
      return (value) => /^(true|false)$/i.test(value);
    case 'guid':
      return (value) => /^[{(]?[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}[)}]?$/i.test(value);
    case 'alpha':
      return (value) => /^[a-z]+$/i.test(value);
    case 'decimal':
    case 'double':
    case 'float':
      return number;
    case 'datetime':
      return (value) => !Number.isNaN(Date.parse(value));
    case 'min':
      return (value) => integer(value) && Number(value) >= first;
    case 'max':
      return (value) => integer(value) && Number(value) <= first;
    case 'range':
      return (value) => integer(value) && Number(value) >= first && Number(value) <= second;
    case 'minlength':
      return (value) => value.length >= first;
    case 'maxlength':
      return (value) => value.length <= first;
    case 'length':
      return numbers.length > 1
        ? (value) => value.length >= first && value.length <= second
        : (value) => value.length === first;
    case 'regex': {
      const expression = new RegExp(argument, 'i');
      return (value) => expression.test(value);
    }
    default:
      throw new RouteTemplateError(template, `unknown constraint "${text}"`);
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Percent-decodes a URL part; text that is not valid percent-encoding is kept as it is. */
export function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
