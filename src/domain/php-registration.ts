/**
 * Magento's `registration.php` read without running PHP: which components it registers
 * (`ComponentRegistrar::register(ComponentRegistrar::THEME, 'frontend/Magento/blank', __DIR__)`),
 * as composer packages under vendor/ and app/design themes write it. The file is parsed with
 * php-parser (a well-kept PHP parser); only the literal forms Magento uses are accepted, and a
 * register call with anything else is refused with its line. Hostile input is bounded: a size
 * and a nesting limit before the parser (which recurses once per level) sees it.
 */
import { Engine } from 'php-parser';
import type * as Php from 'php-parser';

export type ComponentType = 'theme' | 'module' | 'library' | 'language' | 'setup';

export interface ComponentRegistration {
  type: ComponentType;
  /** 'frontend/Magento/blank' for a theme, 'Magento_Theme' for a module. */
  name: string;
  /** The component's directory relative to the file's: '' for __DIR__, else e.g. 'sub/dir'. */
  subdir: string;
}

export type ReadRegistrations = { ok: true; value: ComponentRegistration[] } | { ok: false; reason: string; line?: number };

const REGISTRAR = 'Magento\\Framework\\Component\\ComponentRegistrar';
const TYPES: readonly ComponentType[] = ['theme', 'module', 'library', 'language', 'setup'];
const MAX_BYTES = 64 * 1024;
const MAX_NESTING = 64;
const SUBDIR = /^(?!.*(^|\/)\.\.?(\/|$))[A-Za-z0-9._@+-]+(\/[A-Za-z0-9._@+-]+)*$/;

/** The deepest nesting of brackets, counted naively (strings included): a cheap bound for the parser. */
function nesting(source: string): number {
  let depth = 0;
  let max = 0;
  for (const c of source) {
    if (c === '(' || c === '[' || c === '{') max = Math.max(max, ++depth);
    else if (c === ')' || c === ']' || c === '}') depth = Math.max(0, depth - 1);
  }
  return max;
}

class Refused extends Error {
  constructor(
    readonly reason: string,
    readonly line?: number,
  ) {
    super(reason);
  }
}

const lineOf = (node: Php.Node): number | undefined => node.loc?.start.line;

/** The class a name means in this file: `use` aliases applied, leading backslash dropped. */
function className(node: Php.Node, aliases: Map<string, string>): string | undefined {
  if (node.kind !== 'name') return undefined;
  const { name, resolution } = node as Php.Name;
  if (resolution === 'fqn') return name.replace(/^\\/, '');
  const [first, ...rest] = name.split('\\');
  const aliased = aliases.get((first ?? '').toLowerCase());
  return aliased ? [aliased, ...rest].join('\\') : name;
}

/** `ComponentRegistrar::<CONST>` or a string: the component type. */
function typeOf(arg: Php.Node | undefined, aliases: Map<string, string>): ComponentType {
  if (arg?.kind === 'string') {
    const v = (arg as Php.String).value.toLowerCase();
    if ((TYPES as readonly string[]).includes(v)) return v as ComponentType;
  }
  if (arg?.kind === 'staticlookup') {
    const lookup = arg as Php.StaticLookup;
    const constant = lookup.offset.kind === 'identifier' ? (lookup.offset as Php.Identifier).name.toLowerCase() : '';
    if (className(lookup.what, aliases) === REGISTRAR && (TYPES as readonly string[]).includes(constant)) return constant as ComponentType;
  }
  throw new Refused('the component type must be ComponentRegistrar::THEME, ::MODULE, ::LIBRARY, ::LANGUAGE or ::SETUP', arg && lineOf(arg));
}

/** `__DIR__`, or `__DIR__ . '/sub/dir'` (literals only): the directory relative to the file's. */
function subdirOf(arg: Php.Node | undefined): string {
  const parts: string[] = [];
  const walk = (n: Php.Node | undefined): void => {
    if (n?.kind === 'bin' && (n as Php.Bin).type === '.') {
      walk((n as Php.Bin).left);
      walk((n as Php.Bin).right);
    } else if (n?.kind === 'magic' && String((n as Php.Magic).raw).toUpperCase() === '__DIR__') parts.push('__DIR__');
    else if (n?.kind === 'string') parts.push((n as Php.String).value);
    else throw new Refused('the component path must be __DIR__, or __DIR__ followed by literal strings', n && lineOf(n));
  };
  walk(arg);
  if (parts[0] !== '__DIR__' || parts.lastIndexOf('__DIR__') !== 0) {
    throw new Refused('the component path must start with __DIR__ (the directory of registration.php)', arg && lineOf(arg));
  }
  const rest = parts.slice(1).join('').replace(/^\/+|\/+$/g, '');
  if (rest !== '' && !SUBDIR.test(rest)) {
    throw new Refused(`the component path __DIR__ . ${JSON.stringify(parts.slice(1).join(''))} must stay inside the package, without ".."`, arg && lineOf(arg));
  }
  return rest;
}

/** Every `ComponentRegistrar::register(...)` of a registration.php. */
export function readComponentRegistrations(source: string): ReadRegistrations {
  if (source.length > MAX_BYTES) return { ok: false, reason: `larger than ${MAX_BYTES / 1024} KiB: no registration.php is` };
  if (nesting(source) > MAX_NESTING) return { ok: false, reason: 'nested too deeply to be a registration.php' };
  let program: Php.Program;
  try {
    const engine = new Engine({ parser: { php8: true, suppressErrors: false, extractDoc: false }, ast: { withPositions: true } });
    // Without trailing whitespace: php-parser 3.7.0 loops forever on an unclosed attribute
    // (`#[x`) followed by whitespace at the end of the file.
    program = engine.parseCode(source.trimEnd(), 'registration.php');
  } catch (e) {
    const err = e as { message?: string; lineNumber?: number };
    return { ok: false, reason: `not valid PHP: ${String(err.message ?? e).split('\n')[0]}`, line: err.lineNumber };
  }
  const aliases = new Map<string, string>();
  const found: ComponentRegistration[] = [];
  const visit = (statements: Php.Node[]): void => {
    for (const statement of statements) {
      if (statement.kind === 'namespace') visit((statement as Php.Namespace).children);
      else if (statement.kind === 'usegroup') {
        for (const item of (statement as Php.UseGroup).items) {
          const full = item.name.replace(/^\\/, '');
          const alias = (item.alias)?.name ?? full.split('\\').pop() ?? full;
          aliases.set(alias.toLowerCase(), full);
        }
      } else if (statement.kind === 'expressionstatement') {
        const call = (statement as Php.ExpressionStatement).expression;
        if (call.kind !== 'call') continue;
        const what = (call as Php.Call).what;
        if (what.kind !== 'staticlookup') continue;
        const lookup = what as unknown as Php.StaticLookup;
        const method = lookup.offset.kind === 'identifier' ? (lookup.offset as Php.Identifier).name.toLowerCase() : '';
        if (method !== 'register' || className(lookup.what, aliases) !== REGISTRAR) continue;
        const [type, name, dir] = (call as Php.Call).arguments;
        if (name?.kind !== 'string') throw new Refused('the component name must be a literal string', lineOf(name ?? call));
        found.push({ type: typeOf(type, aliases), name: (name as Php.String).value, subdir: subdirOf(dir) });
      }
    }
  };
  try {
    visit(program.children);
  } catch (e) {
    if (e instanceof Refused) return { ok: false, reason: e.reason, ...(e.line !== undefined ? { line: e.line } : {}) };
    throw e;
  }
  return { ok: true, value: found };
}
