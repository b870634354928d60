/**
 * A reader for PHP array literals, for Magento's `app/etc/config.php` (`<?php return [...];`).
 * PHP is never run: only literal data is accepted, and anything that would need evaluation
 * (calls, constants, variables, operators) is refused at the line and column of its token.
 * Pure TS, no Node builtins: this module is bundled into Temporal workflow code.
 */

import { describeToken, Lexer, PhpParseError, type Token } from './php-tokens';

export { PhpParseError };

/**
 * A PHP value as JS sees it. A PHP array keyed exactly 0..n-1 becomes a JS array, any other a
 * plain object. Caveat of JS objects: integer-like keys are enumerated first, in ascending order,
 * whatever their PHP order; other keys keep their PHP insertion order.
 */
export type PhpValue = string | number | boolean | null | PhpValue[] | { [key: string]: PhpValue };

/** Deeper input is broken or hostile; the bound also keeps the recursive descent shallow. */
const MAX_DEPTH = 64;

const MUST_RETURN = 'the file must return an array literal (return [...]; or return array(...);)';
const LITERALS_ONLY = 'only literal values can be read without running PHP';

const OPERATORS = new Set(['+', '-', '*', '/', '%', '|', '&', '^', '~', '!', '<', '>', '?']);

const isPunct = (t: Token, text: string): boolean => t.kind === 'punct' && t.text === text;
const isName = (t: Token, lower: string): boolean => t.kind === 'name' && t.text.toLowerCase() === lower;

class Parser {
  private peeked: Token | undefined;

  constructor(private readonly lexer: Lexer) {}

  private peek(): Token {
    return (this.peeked ??= this.lexer.next());
  }

  private next(): Token {
    const t = this.peek();
    this.peeked = undefined;
    return t;
  }

  private fail(t: Token, reason: string): never {
    return this.lexer.fail(t.offset, reason);
  }

  /** A reason that names the likely mistake when an operator shows up where a separator belongs. */
  private unexpected(t: Token, expected: string): string {
    if (isPunct(t, '.')) return `string concatenation (".") is not supported: ${LITERALS_ONLY}`;
    if (t.kind === 'punct' && OPERATORS.has(t.text)) {
      return `operators such as "${t.text}" are not supported: ${LITERALS_ONLY}`;
    }
    return `${expected}, found ${describeToken(t)}`;
  }

  private expect(text: string, context: string): void {
    const t = this.next();
    if (!isPunct(t, text)) this.fail(t, this.unexpected(t, `expected "${text}" ${context}`));
  }

  file(): PhpValue {
    let t = this.next();
    while (isName(t, 'declare')) {
      this.declare();
      t = this.next();
    }
    if (!isName(t, 'return')) this.fail(t, MUST_RETURN);
    const start = this.peek();
    if (!isPunct(start, '[') && !isName(start, 'array')) this.fail(start, MUST_RETURN);
    const value = this.value(0);
    // "?>" ends a statement as a ";" does.
    const end = this.next();
    if (!isPunct(end, ';') && end.kind !== 'close-tag') {
      this.fail(end, this.unexpected(end, 'expected ";" after the returned array'));
    }
    const rest = end.kind === 'close-tag' ? end : this.next();
    if (rest.kind === 'close-tag') this.lexer.expectEnd();
    else if (rest.kind !== 'eof') {
      this.fail(rest, `unexpected ${describeToken(rest)} after the return statement: nothing may follow "return [...];"`);
    }
    return value;
  }

  /** `declare(strict_types=1);` and the like: read and ignored, they do not change data. */
  private declare(): void {
    this.expect('(', 'after "declare"');
    for (;;) {
      const name = this.next();
      if (name.kind !== 'name') this.fail(name, `expected a directive name in declare(...), found ${describeToken(name)}`);
      this.expect('=', 'after the declare directive');
      const value = this.next();
      if (value.kind !== 'number' && value.kind !== 'string') {
        this.fail(value, `expected a number or string in declare(...), found ${describeToken(value)}`);
      }
      if (!isPunct(this.peek(), ',')) break;
      this.next();
    }
    this.expect(')', 'to close declare(...)');
    this.expect(';', 'after declare(...)');
  }

  private value(depth: number): PhpValue {
    const t = this.next();
    if (t.kind === 'string' || t.kind === 'number') return t.value;
    if (t.kind === 'variable') this.fail(t, `variables such as "${t.text}" are not supported: ${LITERALS_ONLY}`);
    if (t.kind === 'name') return this.named(t, depth);
    if (isPunct(t, '[')) return this.array(t, ']', depth + 1);
    if (isPunct(t, '-') || isPunct(t, '+')) {
      const n = this.next();
      if (n.kind !== 'number') this.fail(n, `expected a number after "${t.text}", found ${describeToken(n)}`);
      return t.text === '-' && n.value !== 0 ? -n.value : n.value;
    }
    if (isPunct(t, '<<<')) this.fail(t, 'heredoc and nowdoc strings are not supported: use quoted strings');
    return this.fail(t, `expected a value (a string, number, true, false, null or array), found ${describeToken(t)}`);
  }

  private named(t: Token, depth: number): PhpValue {
    // `\true` is the fully qualified spelling of `true`.
    const lower = t.text.replace(/^\\/, '').toLowerCase();
    if (lower === 'true') return true;
    if (lower === 'false') return false;
    if (lower === 'null') return null;
    const after = this.peek();
    if (isName(t, 'array') && isPunct(after, '(')) {
      this.next();
      return this.array(t, ')', depth + 1);
    }
    if (lower === 'new') return this.fail(t, `creating objects ("new") is not supported: ${LITERALS_ONLY}`);
    if (isPunct(after, '(')) return this.fail(t, `function calls such as "${t.text}(...)" are not supported: ${LITERALS_ONLY}`);
    if (isPunct(after, '::')) return this.fail(t, `class constants such as "${t.text}::..." are not supported: ${LITERALS_ONLY}`);
    return this.fail(t, `constants such as "${t.text}" are not supported: only true, false and null may appear unquoted`);
  }

  private array(open: Token, close: string, depth: number): PhpValue {
    if (depth > MAX_DEPTH) this.fail(open, `arrays are nested deeper than ${MAX_DEPTH} levels`);
    // Keys as PHP holds them: integers as JS numbers, other strings as strings, so "5" and 5 collide.
    const entries = new Map<string | number, PhpValue>();
    let nextIndex: number | undefined; // PHP 8.3: max int key + 1, even when negative
    const put = (key: string | number, value: PhpValue): void => {
      entries.set(key, value);
      if (typeof key === 'number' && (nextIndex === undefined || key >= nextIndex)) nextIndex = key + 1;
    };
    // Whether `t` closes this array; the end of file or the other kind of bracket cannot go on either.
    const closes = (t: Token): boolean => {
      if (isPunct(t, close)) return true;
      if (t.kind === 'eof') this.fail(open, `unterminated array: "${open.text}" is never closed by "${close}"`);
      if (isPunct(t, ']') || isPunct(t, ')')) {
        const { line, column } = this.lexer.where(open.offset);
        this.fail(t, `expected "${close}" to close the array opened at line ${line}, column ${column}, found ${describeToken(t)}`);
      }
      return false;
    };
    while (!closes(this.peek())) {
      const keyToken = this.peek();
      const first = this.value(depth);
      let separator = this.next();
      let expected = 'expected "=>" or "," after array element';
      if (isPunct(separator, '=>')) {
        put(this.key(first, keyToken), this.value(depth));
        separator = this.next();
        expected = 'expected "," after array element';
      } else {
        put(nextIndex ?? 0, first);
      }
      if (isPunct(separator, ',')) continue;
      if (closes(separator)) return toValue(entries);
      this.fail(separator, this.unexpected(separator, expected));
    }
    this.next();
    return toValue(entries);
  }

  /** PHP's key casts: decimal-integer strings, floats (truncated) and booleans become integers; null becomes "". */
  private key(value: PhpValue, t: Token): string | number {
    if (typeof value === 'string') {
      return /^(0|-?[1-9]\d*)$/.test(value) && Number.isSafeInteger(Number(value)) ? Number(value) : value;
    }
    if (typeof value === 'number') {
      if (!Number.isFinite(value)) this.fail(t, `${describeToken(t)} is not a valid array key`);
      return Math.trunc(value) || 0;
    }
    if (typeof value === 'boolean') return value ? 1 : 0;
    if (value === null) return '';
    return this.fail(t, 'an array cannot be used as an array key');
  }
}

function toValue(entries: Map<string | number, PhpValue>): PhpValue {
  let i = 0;
  if ([...entries.keys()].every((k) => k === i++)) return [...entries.values()];
  const object: { [key: string]: PhpValue } = {};
  for (const [key, value] of entries) {
    // defineProperty, not assignment: a "__proto__" key must become data, not a new prototype.
    Object.defineProperty(object, String(key), { value, enumerable: true, writable: true, configurable: true });
  }
  return object;
}

/** Parses a PHP file of the form `<?php [declare(strict_types=1);] return <array>;` and returns the array's value. */
export function parsePhpReturnArray(source: string): PhpValue {
  return new Parser(new Lexer(source)).file();
}
