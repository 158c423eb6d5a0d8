/**
 * ARM template language expressions (`"[format('st{0}', variables('token'))]"`): a parser and
 * an evaluator over a table of functions the caller provides. Enough of the language for what
 * Bicep emits (function calls, string and number literals, `.property` and `[index]` access);
 * a function the table lacks is an error naming it, never a guess.
 */

export type ArmValue = string | number | boolean | null | readonly ArmValue[] | { readonly [key: string]: ArmValue };

export type Expression =
  | { readonly kind: 'literal'; readonly value: string | number }
  | { readonly kind: 'call'; readonly name: string; readonly args: readonly Expression[] }
  | { readonly kind: 'property'; readonly target: Expression; readonly name: string }
  | { readonly kind: 'index'; readonly target: Expression; readonly index: Expression };

/** Each function gets its arguments unevaluated, so `if` and `and` can leave a branch alone as ARM does. */
export type ArmFunction = (args: readonly Expression[], evaluate: (expression: Expression) => ArmValue) => ArmValue;

export class ArmExpressionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ArmExpressionError';
  }
}

/** A string value that is an expression: `[...]`, but not `[[...`, which ARM reads as a literal `[`. */
export function isExpression(text: string): boolean {
  return text.startsWith('[') && text.endsWith(']') && !text.startsWith('[[');
}

/** The literal a `[[`-escaped string stands for, or the string itself. */
export function unescapeLiteral(text: string): string {
  return text.startsWith('[[') ? text.slice(1) : text;
}

export function parseExpression(source: string): Expression {
  const parser = new Parser(source.slice(1, -1));
  const expression = parser.expression();
  parser.skipSpace();
  if (!parser.atEnd()) throw new ArmExpressionError(`unexpected "${parser.rest()}" in ${source}`);
  return expression;
}

export function evaluateExpression(expression: Expression, functions: Readonly<Record<string, ArmFunction>>): ArmValue {
  const evaluate = (node: Expression): ArmValue => {
    switch (node.kind) {
      case 'literal':
        return node.value;
      case 'call': {
        const fn = functions[node.name.toLowerCase()];
        if (fn === undefined) throw new ArmExpressionError(`the template calls ${node.name}(), which this evaluator does not know`);
        return fn(node.args, evaluate);
      }
      case 'property': {
        const target = evaluate(node.target);
        return member(target, node.name);
      }
      case 'index': {
        const target = evaluate(node.target);
        const index = evaluate(node.index);
        if (Array.isArray(target) && typeof index === 'number') {
          if (index < 0 || index >= target.length) throw new ArmExpressionError(`index ${index} is outside an array of ${target.length}`);
          return target[index] as ArmValue;
        }
        if (typeof index === 'string') return member(target, index);
        throw new ArmExpressionError(`cannot index ${JSON.stringify(target)} with ${JSON.stringify(index)}`);
      }
    }
  };
  return evaluate(expression);
}

function member(target: ArmValue, name: string): ArmValue {
  if (target === null || typeof target !== 'object' || Array.isArray(target)) {
    throw new ArmExpressionError(`cannot read .${name} of ${JSON.stringify(target)}`);
  }
  // ARM property names are case-insensitive.
  const object = target as Record<string, ArmValue>;
  const key = Object.keys(object).find((candidate) => candidate.toLowerCase() === name.toLowerCase());
  if (key === undefined) throw new ArmExpressionError(`no property ${name} in ${JSON.stringify(target).slice(0, 200)}`);
  return object[key] as ArmValue;
}

class Parser {
  private position = 0;

  constructor(private readonly source: string) {}

  atEnd(): boolean {
    return this.position >= this.source.length;
  }

  rest(): string {
    return this.source.slice(this.position);
  }

  skipSpace(): void {
    while (!this.atEnd() && /\s/.test(this.source[this.position] ?? '')) this.position += 1;
  }

  expression(): Expression {
    this.skipSpace();
    let node = this.primary();
    for (;;) {
      const next = this.source[this.position];
      if (next === '.') {
        this.position += 1;
        node = { kind: 'property', target: node, name: this.identifier() };
      } else if (next === '[') {
        this.position += 1;
        const index = this.expression();
        this.expect(']');
        node = { kind: 'index', target: node, index };
      } else {
        return node;
      }
    }
  }

  private primary(): Expression {
    const next = this.source[this.position];
    if (next === "'") return { kind: 'literal', value: this.string() };
    if (next !== undefined && /[-0-9]/.test(next)) return { kind: 'literal', value: this.number() };
    const name = this.identifier();
    this.skipSpace();
    this.expect('(');
    const args: Expression[] = [];
    this.skipSpace();
    if (this.source[this.position] === ')') {
      this.position += 1;
      return { kind: 'call', name, args };
    }
    for (;;) {
      args.push(this.expression());
      this.skipSpace();
      const separator = this.source[this.position];
      this.position += 1;
      if (separator === ')') return { kind: 'call', name, args };
      if (separator !== ',') throw new ArmExpressionError(`expected "," or ")" at "${this.source.slice(this.position - 1)}"`);
    }
  }

  private string(): string {
    let value = '';
    this.position += 1;
    for (;;) {
      const char = this.source[this.position];
      if (char === undefined) throw new ArmExpressionError(`unterminated string in [${this.source}]`);
      this.position += 1;
      if (char === "'") {
        if (this.source[this.position] !== "'") return value;
        this.position += 1;
      }
      value += char;
    }
  }

  private number(): number {
    const match = /^-?\d+(\.\d+)?/.exec(this.rest());
    if (match === null) throw new ArmExpressionError(`expected a number at "${this.rest()}"`);
    this.position += match[0].length;
    return Number(match[0]);
  }

  private identifier(): string {
    const match = /^[A-Za-z_$][A-Za-z0-9_$]*/.exec(this.rest());
    if (match === null) throw new ArmExpressionError(`expected a name at "${this.rest()}"`);
    this.position += match[0].length;
    return match[0];
  }

  private expect(char: string): void {
    this.skipSpace();
    if (this.source[this.position] !== char) throw new ArmExpressionError(`expected "${char}" at "${this.rest()}"`);
    this.position += 1;
  }
}
