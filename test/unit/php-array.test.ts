/** Reading PHP array literals (app/etc/config.php) without running PHP: what is accepted, and how the rest is refused. */
import { strict as assert } from 'node:assert';
import { parsePhpReturnArray, PhpParseError, type PhpValue } from '../../src/domain/php-array';

const parse = (body: string): PhpValue => parsePhpReturnArray(`<?php\nreturn ${body};\n`);

function parseError(source: string): PhpParseError {
  try {
    parsePhpReturnArray(source);
  } catch (e) {
    if (e instanceof PhpParseError) return e;
    throw e;
  }
  return assert.fail(`expected a PhpParseError for ${JSON.stringify(source)}`);
}

describe('PHP array literals', function () {
  describe('the file around the array', function () {
    it('reads `<?php return [...];`', function () {
      assert.deepEqual(parsePhpReturnArray("<?php\nreturn ['a' => 1];\n"), { a: 1 });
    });

    it('does without the opening tag', function () {
      assert.deepEqual(parsePhpReturnArray('return [1, 2];'), [1, 2]);
    });

    it('skips a BOM and whitespace before the tag, and takes the tag in any case', function () {
      assert.deepEqual(parsePhpReturnArray('\uFEFF \n\t<?PHP return [];'), []);
    });

    it('skips declare(...) statements', function () {
      const source = "<?php\ndeclare(strict_types=1);\ndeclare(ticks=1, encoding='UTF-8');\nreturn ['x'];";
      assert.deepEqual(parsePhpReturnArray(source), ['x']);
    });

    it('accepts a closing ?> after the statement, or in place of the ";"', function () {
      assert.deepEqual(parsePhpReturnArray('<?php return [1]; ?>\n'), [1]);
      assert.deepEqual(parsePhpReturnArray('<?php return [1] ?>'), [1]);
    });

    it('skips //, # and /* */ comments anywhere, but not inside strings', function () {
      const source = [
        '<?php // config',
        '# generated',
        '/** doc',
        ' * block */',
        "return /* here */ [ // trailing",
        "  'a' /* between */ => # hash",
        "    '// not a comment', 'b' => '# nor this', 'c' => '/* nor this */',",
        '] /* before ; */ ; // after',
        '/* at the end */',
      ].join('\n');
      assert.deepEqual(parsePhpReturnArray(source), { a: '// not a comment', b: '# nor this', c: '/* nor this */' });
    });

    it('ends a line comment at "?>", as PHP does', function () {
      assert.deepEqual(parsePhpReturnArray('<?php return [1]; // done ?>\n'), [1]);
    });

    it('accepts \\r\\n line endings', function () {
      assert.deepEqual(parsePhpReturnArray("<?php\r\nreturn [\r\n  'a' => 'b',\r\n];\r\n"), { a: 'b' });
    });
  });

  describe('arrays', function () {
    it('reads [] and array() in any case, nested, with trailing commas', function () {
      assert.deepEqual(parse("['a' => array(1, 2,), 'b' => ARRAY ('c' => []), 'd' => Array(),]"), {
        a: [1, 2],
        b: { c: [] },
        d: [],
      });
    });

    it('makes an array keyed exactly 0..n-1 a list, whether keyed explicitly or not', function () {
      assert.deepEqual(parse("['a', 'b', 'c']"), ['a', 'b', 'c']);
      assert.deepEqual(parse("[0 => 'a', 1 => 'b']"), ['a', 'b']);
      assert.deepEqual(parse("['0' => 'a', '1' => 'b']"), ['a', 'b']);
    });

    it('makes any other array an object with string keys', function () {
      assert.deepEqual(parse("[1 => 'a', 2 => 'b']"), { 1: 'a', 2: 'b' });
      assert.deepEqual(parse("[1 => 'a', 0 => 'b']"), { 1: 'a', 0: 'b' });
      assert.deepEqual(parse("['05' => 'a', '-0' => 'b', ' 1' => 'c']"), { '05': 'a', '-0': 'b', ' 1': 'c' });
    });

    it('keeps the insertion order of string keys', function () {
      assert.deepEqual(Object.keys(parse("['z' => 1, 'a' => 2, 'm' => 3]") as object), ['z', 'a', 'm']);
    });

    it('numbers unkeyed values from the largest integer key, like PHP', function () {
      assert.deepEqual(parse("[5 => 'a', 'b', 'x' => 'c', 'd']"), { 5: 'a', 6: 'b', x: 'c', 7: 'd' });
      assert.deepEqual(parse("[3 => 'a', 1 => 'b', 'c']"), { 3: 'a', 1: 'b', 4: 'c' });
      assert.deepEqual(parse("[-5 => 'a', 'b']"), { '-5': 'a', '-4': 'b' });
    });

    it('casts keys as PHP does: integer strings, floats, booleans and null', function () {
      assert.deepEqual(parse("['7' => 'a', 2.9 => 'b', true => 'c', false => 'd', null => 'e']"), {
        7: 'a',
        2: 'b',
        1: 'c',
        0: 'd',
        '': 'e',
      });
    });

    it('lets the last of duplicate keys win, in the first one\'s place', function () {
      const value = parse("['a' => 1, 'b' => 2, 'a' => 3, 5 => 'x', '5' => 'y']");
      assert.deepEqual(value, { a: 3, b: 2, 5: 'y' });
      assert.deepEqual(Object.keys(value as object), ['5', 'a', 'b']);
    });

    it('stores a "__proto__" key as data, without touching any prototype', function () {
      const value = parse("['__proto__' => ['polluted' => 1], 'constructor' => 'c']") as Record<string, PhpValue>;
      assert.equal(Object.getPrototypeOf(value), Object.prototype);
      assert.ok(Object.prototype.hasOwnProperty.call(value, '__proto__'));
      assert.deepEqual(Object.getOwnPropertyDescriptor(value, '__proto__')?.value, { polluted: 1 });
      assert.equal(value.constructor, 'c');
      assert.equal((value as { polluted?: unknown }).polluted, undefined);
      assert.equal(({} as { polluted?: unknown }).polluted, undefined);
    });

    it('accepts nesting 64 deep', function () {
      let expected: PhpValue = [];
      for (let i = 1; i < 64; i++) expected = [expected];
      assert.deepEqual(parse(`${'['.repeat(64)}${']'.repeat(64)}`), expected);
    });
  });

  describe('scalars', function () {
    it('reads single-quoted strings, where only \\\' and \\\\ are escapes', function () {
      assert.deepEqual(parse(String.raw`['it\'s', 'C:\\dir', 'a\nb', '\x41', 'say "hi"', '$x', '']`), [
        "it's",
        'C:\\dir',
        'a\\nb',
        '\\x41',
        'say "hi"',
        '$x',
        '',
      ]);
    });

    it('keeps line breaks inside strings', function () {
      assert.deepEqual(parse("['line 1\nline 2', \"a\nb\"]"), ['line 1\nline 2', 'a\nb']);
    });

    it('reads the escapes of double-quoted strings', function () {
      assert.deepEqual(parse(String.raw`["\n\t\r\v\e\f\\\"\$", "\0\101\7", "\x41\x7e\xC3\xA9", "\u{41}\u{e9}\u{1F600}"]`), [
        '\n\t\r\v\x1b\f\\"$',
        '\0A\x07',
        'A~é',
        'Aé😀',
      ]);
    });

    it('keeps unknown escapes and a "$" that starts no variable, as PHP does', function () {
      assert.deepEqual(parse(String.raw`["\q\u\x", "costs $5", "end$", "{ $ }", "'"]`), [
        '\\q\\u\\x',
        'costs $5',
        'end$',
        '{ $ }',
        "'",
      ]);
    });

    it('reads integers: decimal, negative, hex, octal, binary, with underscores', function () {
      assert.deepEqual(parse('[0, 42, -7, + 3, - 12, 0x1F, 0XfF, 0o17, 0O7, 017, 0b101, 0B11, 1_000_000, 0x7f_ff]'), [
        0, 42, -7, 3, -12, 31, 255, 15, 7, 15, 5, 3, 1000000, 32767,
      ]);
    });

    it('reads floats', function () {
      assert.deepEqual(parse('[1.5, -2e3, .5, 1., 1E3, 2.5e-1, 1_0.2_5, -0.25]'), [1.5, -2000, 0.5, 1, 1000, 0.25, 10.25, -0.25]);
    });

    it('reads true, false and null in any case', function () {
      assert.deepEqual(parse('[true, TRUE, True, false, FALSE, False, null, NULL, Null, \\true]'), [
        true, true, true, false, false, false, null, null, null, true,
      ]);
    });
  });

  describe('errors', function () {
    it('are PhpParseErrors with the line, column and reason in the message', function () {
      const e = parseError("<?php\nreturn [\n  'a' => FOO,\n];");
      assert.ok(e instanceof Error);
      assert.equal(e.name, 'PhpParseError');
      assert.equal(e.line, 3);
      assert.equal(e.column, 10);
      assert.equal(e.reason, 'constants such as "FOO" are not supported: only true, false and null may appear unquoted');
      assert.equal(e.message, `line 3, column 10: ${e.reason}`);
    });

    const LITERALS = 'only literal values can be read without running PHP';
    const MUST_RETURN = 'the file must return an array literal (return [...]; or return array(...);)';
    const cases: Array<[string, string, number, number, string]> = [
      [
        'a missing "=>" between a key and its value',
        "<?php\nreturn [\n    'modules' => ['Magento_Theme'\n                'Magento_Store' => 1],\n];",
        4,
        17,
        'expected "=>" or "," after array element, found "Magento_Store"',
      ],
      ['a missing "," after a keyed element', "<?php return ['a' => 1\n 'b' => 2];", 2, 2, 'expected "," after array element, found "b"'],
      ['a function call', "<?php return ['a' => getenv('X')];", 1, 22, `function calls such as "getenv(...)" are not supported: ${LITERALS}`],
      ['a constant', '<?php return [PHP_EOL];', 1, 15, 'constants such as "PHP_EOL" are not supported: only true, false and null may appear unquoted'],
      ['a class constant', '<?php return [\\Foo\\Bar::class];', 1, 15, `class constants such as "\\Foo\\Bar::..." are not supported: ${LITERALS}`],
      ['string concatenation', "<?php return ['a' . 'b'];", 1, 19, `string concatenation (".") is not supported: ${LITERALS}`],
      ['arithmetic', '<?php return [1 + 2];', 1, 17, `operators such as "+" are not supported: ${LITERALS}`],
      ['a variable', '<?php return [$config];', 1, 15, `variables such as "$config" are not supported: ${LITERALS}`],
      ['new', '<?php return [new Foo()];', 1, 15, `creating objects ("new") is not supported: ${LITERALS}`],
      [
        'variable interpolation in a double-quoted string',
        '<?php return ["db: $host"];',
        1,
        20,
        '"$host" in a double-quoted string interpolates a variable, which needs PHP to run; escape it as "\\$" or use single quotes',
      ],
      [
        'brace interpolation in a double-quoted string',
        '<?php return ["{$a}"];',
        1,
        16,
        '"{$" in a double-quoted string interpolates a variable, which needs PHP to run; escape it as "\\$" or use single quotes',
      ],
      ['a missing ";"', '<?php return [1]\n', 2, 1, 'expected ";" after the returned array, found end of file'],
      ['an unterminated single-quoted string', "<?php\nreturn ['abc];\n", 2, 9, 'unterminated string: the quote opened here is never closed'],
      ['an unterminated double-quoted string', '<?php return ["abc];', 1, 15, 'unterminated string: the quote opened here is never closed'],
      ['an unterminated comment', '<?php return [1]; /* note', 1, 19, 'unterminated comment: "/*" is never closed by "*/"'],
      ['an unterminated array', "<?php\nreturn [\n  'a' => [1,\n", 3, 10, 'unterminated array: "[" is never closed by "]"'],
      ['a mismatched bracket', '<?php return array(1, 2];', 1, 24, 'expected ")" to close the array opened at line 1, column 14, found "]"'],
      ['no return statement', '<?php\n$config = [];', 2, 1, MUST_RETURN],
      ['an empty file', '', 1, 1, MUST_RETURN],
      ['a returned scalar', '<?php return 42;', 1, 14, MUST_RETURN],
      ['garbage after the statement', '<?php return [];\necho 1;', 2, 1, 'unexpected "echo" after the return statement: nothing may follow "return [...];"'],
      ['text after the closing tag', '<?php return []; ?>\n<html>', 2, 1, 'unexpected text after the closing "?>" tag'],
      ['an invalid octal literal', '<?php return [0789];', 1, 15, 'invalid octal literal "0789" (a leading 0 means octal)'],
      ['a number glued to letters', '<?php return [12abc];', 1, 15, 'invalid numeric literal "12abc"'],
      ['a dangling underscore in a number', '<?php return [1_];', 1, 15, 'invalid numeric literal "1_"'],
      ['an empty element', '<?php return [1,, 2];', 1, 17, 'expected a value (a string, number, true, false, null or array), found ","'],
      ['an array as a key', '<?php return [[1] => 2];', 1, 15, 'an array cannot be used as an array key'],
      ['a sign before a string', "<?php return [-'1'];", 1, 16, 'expected a number after "-", found "1"'],
      ['an attribute', '<?php return [#[Attr] 1];', 1, 15, 'expected a value (a string, number, true, false, null or array), found "#["'],
      ['a heredoc', '<?php return [<<<EOT\nx\nEOT];', 1, 15, 'heredoc and nowdoc strings are not supported: use quoted strings'],
      ['an invalid \\u{} escape', '<?php return ["\\u{110000}"];', 1, 16, '"\\u{" must be followed by hexadecimal digits of a code point up to 10FFFF and "}"'],
      ['\\x escapes that are not UTF-8', '<?php return ["\\xff"];', 1, 15, 'the "\\x" and octal escapes in this string are not valid UTF-8'],
      ['a malformed declare', '<?php declare(strict_types) return [];', 1, 27, 'expected "=" after the declare directive, found ")"'],
      ['nesting deeper than 64', `<?php return ${'['.repeat(65)}${']'.repeat(65)};`, 1, 78, 'arrays are nested deeper than 64 levels'],
    ];
    for (const [title, source, line, column, reason] of cases) {
      it(`refuses ${title}`, function () {
        const e = parseError(source);
        assert.deepEqual({ line: e.line, column: e.column, reason: e.reason }, { line, column, reason });
      });
    }

    it('refuses very deep nesting without overflowing the stack', function () {
      const e = parseError(`<?php return ${'['.repeat(100_000)}`);
      assert.deepEqual([e.line, e.column, e.reason], [1, 78, 'arrays are nested deeper than 64 levels']);
    });

    it('counts columns from after a BOM', function () {
      const e = parseError('\uFEFFreturn [FOO];');
      assert.deepEqual([e.line, e.column], [1, 9]);
    });
  });
});
