/**
 * The tokenizer of the PHP array-literal reader (php-array.ts): strings with PHP's escapes
 * decoded, numbers with their values, names, variables and punctuation, each with its offset
 * so that a refusal can name its line and column. Comments and whitespace are skipped.
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

export type Token =
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
const RADIX_PREFIXES: Record<string, number> = { '0x': 16, '0b': 2, '0o': 8 };
const SIMPLE_ESCAPES: Record<string, string> = {
  n: '\n', t: '\t', r: '\r', v: '\v', e: '\x1b', f: '\f', '\\': '\\', $: '$', '"': '"',
};

/** A token as a refusal names it: quoted, shortened past 40 characters. */
export function describeToken(t: Token): string {
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

export class Lexer {
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
