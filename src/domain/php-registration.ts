// TEMPORARY stand-in until the php-parser branch lands (same API).
export interface ComponentRegistration { type: 'theme' | 'module' | 'library' | 'language' | 'setup'; name: string; subdir: string }
export function readComponentRegistrations(source: string): { ok: true; value: ComponentRegistration[] } | { ok: false; reason: string; line?: number } {
  const out: ComponentRegistration[] = [];
  const re = /ComponentRegistrar::register\(\s*ComponentRegistrar::(THEME|MODULE)\s*,\s*'([^']+)'\s*,\s*__DIR__\s*\)/g;
  for (const m of source.matchAll(re)) out.push({ type: m[1] === 'THEME' ? 'theme' : 'module', name: m[2]!, subdir: '' });
  return { ok: true, value: out };
}
