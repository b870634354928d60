/**
 * A reader for PHP array literals, for Magento's `app/etc/config.php` (`<?php return [...];`).
 * PHP is never run: only literal data is accepted, and anything that would need evaluation
 * (calls, constants, variables, operators) is refused at the line and column of its token.
 * Pure TS, no Node builtins: this module is bundled into Temporal workflow code.
 */

/** A problem in the source, 1-based like editors count (columns in UTF-16 units, after any BOM). */
export class PhpParseError extends Error {
  constructor(
    readonly line: number,
    readonly column: number,
    readonly reason: string,
  ) {
    super(`line ${line}, column ${column}: ${reason}`);
    this.name = 'PhpParseError';
  }
}

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

type Token =
  | { kind: 'string'; value: string; text: string; offset: number }
  | { kind: 'number'; value: number; text: string; offset: number }
  | { kind: 'name' | 'variable' | 'punct' | 'close-tag' | 'eof'; text: string; offset: number };

// PHP's own whitespace set: a no-break space, say, is not whitespace to PHP either.
const WHITESPACE = /[ \t\r\n]+/y;
const OPEN_TAG = /[ \t\r\n]*<\?php(?=[ \t\r\n]|$)/iy;
// A line comment ends at the line break, or at "?>" which closes PHP mode even inside it.
const LINE_COMMENT_END = /[\r\n]|\?>/g;
const NAME = /\\?[A-Za-z_][A-Za-z0-9_]*(?:\\[A-Za-z_][A-Za-z0-9_]*)*/y;
const VARIABLE = /\$[A-Za-z_][A-Za-z0-9_]*/y;
const DIGITS = String.raw`\d+(?:_\d+)*`;
const NUMBER = new RegExp(
  String.raw`0[xX][\da-fA-F]+(?:_[\da-fA-F]+)*|0[bB][01]+(?:_[01]+)*|0[oO][0-7]+(?:_[0-7]+)*` +
    String.raw`|(?:${DIGITS}\.(?:${DIGITS})?|\.${DIGITS}|${DIGITS})(?:[eE][+-]?${DIGITS})?`,
  'y',
);
const WORD_CHAR = /[A-Za-z0-9_]/;
// Longest first; every other character is a one-character token.
const MULTI_PUNCT = ['<<<', '=>', '?>', '::', '->', '#['];
const OPERATORS = new Set(['+', '-', '*', '/', '%', '|', '&', '^', '~', '!', '<', '>', '?']);
const RADIX_PREFIXES: Record<string, number> = { '0x': 16, '0b': 2, '0o': 8 };
const SIMPLE_ESCAPES: Record<string, string> = {
  n: '\n', t: '\t', r: '\r', v: '\v', e: '\x1b', f: '\f', '\\': '\\', $: '$', '"': '"',
};

function describe(t: Token): string {
  if (t.kind === 'eof') return 'end of file';
  const text = t.kind === 'string' ? t.value : t.text;
  return JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text);
}

/** PHP strings are bytes; `\x` and octal escapes are decoded as UTF-8, which is what the file means. */
function utf8(bytes: number[]): string | undefined {
  try {
    return decodeURIComponent(bytes.map((b) => `%${b.toString(16).padStart(2, '0')}`).join(''));
  } catch {
    return undefined;
  }
}

/** The value of a PHP number literal, or why it is not one. */
function numberValue(text: string): number | { error: string } {
  const t = text.replace(/_/g, '');
  const radix = RADIX_PREFIXES[t.slice(0, 2).toLowerCase()];
  if (radix) return parseInt(t.slice(2), radix);
  if (/[.eE]/.test(t)) return Number(t);
  if (t.length > 1 && t.startsWith('0')) {
    return /[89]/.test(t) ? { error: `invalid octal literal "${text}" (a leading 0 means octal)` } : parseInt(t, 8);
  }
  return Number(t);
}

class Lexer {
  private readonly src: string;
  private readonly lineStarts = [0];
  private pos = 0;

  constructor(source: string) {
    this.src = source.startsWith('\uFEFF') ? source.slice(1) : source;
    for (let i = 0; i < this.src.length; i++) {
      const c = this.src.charAt(i);
      if (c === '\n' || (c === '\r' && this.src.charAt(i + 1) !== '\n')) this.lineStarts.push(i + 1);
    }
    this.pos = this.match(OPEN_TAG)?.length ?? 0;
  }

  where(offset: number): { line: number; column: number } {
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((this.lineStarts[mid] ?? 0) <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - (this.lineStarts[lo] ?? 0) + 1 };
  }

  fail(offset: number, reason: string): never {
    const { line, column } = this.where(offset);
    throw new PhpParseError(line, column, reason);
  }

  private match(re: RegExp, at = this.pos): string | undefined {
    re.lastIndex = at;
    return re.exec(this.src)?.[0];
  }

  private skipTrivia(): void {
    for (;;) {
      this.pos += this.match(WHITESPACE)?.length ?? 0;
      const two = this.src.slice(this.pos, this.pos + 2);
      if (two === '/*') {
        const end = this.src.indexOf('*/', this.pos + 2);
        if (end < 0) this.fail(this.pos, 'unterminated comment: "/*" is never closed by "*/"');
        this.pos = end + 2;
      } else if (two === '//' || (two.startsWith('#') && two !== '#[')) {
        LINE_COMMENT_END.lastIndex = this.pos;
        this.pos = LINE_COMMENT_END.exec(this.src)?.index ?? this.src.length;
      } else {
        return;
      }
    }
  }

  next(): Token {
    this.skipTrivia();
    const offset = this.pos;
    const c = this.src.charAt(offset);
    if (c === '') return { kind: 'eof', text: '', offset };
    if (c === "'") return this.singleQuoted();
    if (c === '"') return this.doubleQuoted();
    const token = (kind: 'name' | 'variable' | 'punct' | 'close-tag', text: string): Token => {
      this.pos += text.length;
      return { kind, text, offset };
    };
    const number = this.match(NUMBER);
    if (number !== undefined) {
      if (WORD_CHAR.test(this.src.charAt(offset + number.length))) {
        this.fail(offset, `invalid numeric literal "${number}${this.match(NAME, offset + number.length) ?? ''}"`);
      }
      const value = numberValue(number);
      if (typeof value !== 'number') this.fail(offset, value.error);
      this.pos += number.length;
      return { kind: 'number', value, text: number, offset };
    }
    const variable = this.match(VARIABLE);
    if (variable !== undefined) return token('variable', variable);
    const name = this.match(NAME);
    if (name !== undefined) return token('name', name);
    const punct = MULTI_PUNCT.find((p) => this.src.startsWith(p, offset));
    if (punct === '?>') return token('close-tag', punct);
    // A whole code point, so that an astral character is shown intact in the message.
    return token('punct', punct ?? String.fromCodePoint(this.src.codePointAt(offset) ?? 0));
  }

  /** In single quotes only `\'` and `\\` are escapes; every other backslash is literal. */
  private singleQuoted(): Token {
    const offset = this.pos;
    let value = '';
    let i = offset + 1;
    for (;;) {
      const c = this.src.charAt(i);
      if (c === '') this.fail(offset, 'unterminated string: the quote opened here is never closed');
      if (c === "'") break;
      const escaped = c === '\\' ? this.src.charAt(i + 1) : '';
      if (escaped === "'" || escaped === '\\') {
        value += escaped;
        i += 2;
      } else {
        value += c;
        i += 1;
      }
    }
    this.pos = i + 1;
    return { kind: 'string', value, text: this.src.slice(offset, this.pos), offset };
  }

  private doubleQuoted(): Token {
    const offset = this.pos;
    let value = '';
    let bytes: number[] = [];
    const flush = (): void => {
      if (bytes.length === 0) return;
      const decoded = utf8(bytes);
      if (decoded === undefined) this.fail(offset, 'the "\\x" and octal escapes in this string are not valid UTF-8');
      value += decoded;
      bytes = [];
    };
    let i = offset + 1;
    for (;;) {
      const c = this.src.charAt(i);
      if (c === '') this.fail(offset, 'unterminated string: the quote opened here is never closed');
      if (c === '"') break;
      const following = this.src.charAt(i + 1);
      const interpolated =
        c === '$'
          ? (this.match(VARIABLE, i) ?? (following === '{' ? '${' : undefined))
          : c === '{' && following === '$'
            ? '{$'
            : undefined;
      if (interpolated !== undefined) {
        this.fail(
          i,
          `"${interpolated}" in a double-quoted string interpolates a variable, which needs PHP to run; ` +
            'escape it as "\\$" or use single quotes',
        );
      }
      if (c !== '\\') {
        flush();
        value += c;
        i += 1;
        continue;
      }
      const e = following;
      const simple = SIMPLE_ESCAPES[e];
      const octal = this.match(/[0-7]{1,3}/y, i + 1);
      const hex = e === 'x' ? this.match(/[\da-fA-F]{1,2}/y, i + 2) : undefined;
      if (simple !== undefined) {
        flush();
        value += simple;
        i += 2;
      } else if (octal !== undefined) {
        const byte = parseInt(octal, 8);
        if (byte > 0xff) this.fail(i, `octal escape "\\${octal}" is above "\\377"`);
        bytes.push(byte);
        i += 1 + octal.length;
      } else if (hex !== undefined) {
        bytes.push(parseInt(hex, 16));
        i += 2 + hex.length;
      } else if (e === 'u' && this.src.charAt(i + 2) === '{') {
        const digits = this.match(/\{([\da-fA-F]+)\}/y, i + 2);
        const codePoint = digits === undefined ? NaN : parseInt(digits.slice(1, -1), 16);
        if (!(codePoint <= 0x10ffff)) {
          this.fail(i, '"\\u{" must be followed by hexadecimal digits of a code point up to 10FFFF and "}"');
        }
        flush();
        value += String.fromCodePoint(codePoint);
        i += 2 + (digits?.length ?? 0);
      } else {
        // PHP keeps an unknown escape as written, backslash included.
        flush();
        value += '\\';
        i += 1;
      }
    }
    flush();
    this.pos = i + 1;
    return { kind: 'string', value, text: this.src.slice(offset, this.pos), offset };
  }

  /** After "?>" anything but whitespace would be output by PHP, not returned: refuse it. */
  expectEnd(): void {
    this.pos += this.match(WHITESPACE)?.length ?? 0;
    if (this.pos < this.src.length) this.fail(this.pos, 'unexpected text after the closing "?>" tag');
  }
}

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
    return `${expected}, found ${describe(t)}`;
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
      this.fail(rest, `unexpected ${describe(rest)} after the return statement: nothing may follow "return [...];"`);
    }
    return value;
  }

  /** `declare(strict_types=1);` and the like: read and ignored, they do not change data. */
  private declare(): void {
    this.expect('(', 'after "declare"');
    for (;;) {
      const name = this.next();
      if (name.kind !== 'name') this.fail(name, `expected a directive name in declare(...), found ${describe(name)}`);
      this.expect('=', 'after the declare directive');
      const value = this.next();
      if (value.kind !== 'number' && value.kind !== 'string') {
        this.fail(value, `expected a number or string in declare(...), found ${describe(value)}`);
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
      if (n.kind !== 'number') this.fail(n, `expected a number after "${t.text}", found ${describe(n)}`);
      return t.text === '-' && n.value !== 0 ? -n.value : n.value;
    }
    if (isPunct(t, '<<<')) this.fail(t, 'heredoc and nowdoc strings are not supported: use quoted strings');
    return this.fail(t, `expected a value (a string, number, true, false, null or array), found ${describe(t)}`);
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
        this.fail(t, `expected "${close}" to close the array opened at line ${line}, column ${column}, found ${describe(t)}`);
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
      if (!Number.isFinite(value)) this.fail(t, `${describe(t)} is not a valid array key`);
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
