/** The few statistics the benchmark reports: median, percentiles and ratios. */

export function median(xs: readonly number[]): number {
  return percentile(xs, 50);
}

/**
 * The p-th percentile by linear interpolation between closest ranks (p50 of [1, 2, 3, 4] is 2.5).
 * NaN for no samples.
 */
export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return Number.NaN;
  const sorted = [...xs].sort((a, b) => a - b);
  const rank = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (rank - lo);
}

/** numerator / denominator; NaN when the baseline is zero or missing. */
export function ratio(numerator: number, denominator: number): number {
  return denominator > 0 ? numerator / denominator : Number.NaN;
}

/** Rounds for display and JSON: 3 significant decimals below 10, 1 decimal above. */
export function round(x: number): number {
  if (!Number.isFinite(x)) return x;
  return Math.abs(x) < 10 ? Math.round(x * 1000) / 1000 : Math.round(x * 10) / 10;
}
