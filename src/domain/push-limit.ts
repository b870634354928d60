/**
 * The size limit of one push to a project's remote: Git's `receive.maxInputSize` in the
 * remote's config, which makes the remote stop reading a pack as soon as it is larger (the
 * objects of a refused push are discarded). Pure.
 */

/** The limit of a remote that sets none: 1 GiB. */
export const DEFAULT_MAX_PUSH_SIZE = 1024 ** 3;

const UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/** A size as Git's config writes it (bytes, or a number with k, m or g), in bytes; nothing when it is none. */
export function sizeInBytes(text: string): number | undefined {
  const m = /^\s*(\d+)\s*([kmg]?)(?:i?b)?\s*$/i.exec(text);
  if (!m) return undefined;
  const bytes = Number(m[1]) * (UNITS[m[2]!.toLowerCase()] ?? 1);
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}

/**
 * A push size limit as a person gives it: bytes, or a number with `k`, `m` or `g` (binary
 * units, with or without a trailing `b`/`ib`: `512m`, `2GiB`). At least 1 KiB: a smaller limit
 * would refuse every push. Returns the bytes, or why the text is no size.
 */
export function parsePushSize(text: string): { ok: true; bytes: number } | { ok: false; reason: string } {
  const bytes = sizeInBytes(text);
  if (bytes === undefined) return { ok: false, reason: `"${text}" is not a size: use bytes or a number with k, m or g (for example 512m or 2g)` };
  if (bytes < 1024) return { ok: false, reason: `a push size limit of ${bytes} bytes would refuse every push: use at least 1k` };
  return { ok: true, bytes };
}

/** Bytes as a person reads them: `1 GiB`, `512 MiB`, `1.5 KiB`, `100 bytes`. */
export function formatSize(bytes: number): string {
  for (const [unit, n] of [
    ['GiB', 1024 ** 3],
    ['MiB', 1024 ** 2],
    ['KiB', 1024],
  ] as const) {
    if (bytes >= n) return `${Number((bytes / n).toFixed(2))} ${unit}`;
  }
  return `${bytes} bytes`;
}
