/** The table printed at the end of a run. */
import type { Figure } from './results';

const fmt = (x: number | undefined, unit = ''): string => {
  if (x === undefined) return '';
  if (!Number.isFinite(x)) return 'n/a';
  const s = Math.abs(x) >= 100 ? x.toFixed(0) : Math.abs(x) >= 10 ? x.toFixed(1) : x.toFixed(3).replace(/\.?0+$/, '') || '0';
  return unit ? `${s} ${unit}` : s;
};

export const formatValue = (f: Figure): string => `${fmt(f.value, f.unit)}${f.stat === 'median' ? '' : ` (${f.stat})`}`;
export const formatBaseline = (f: Figure): string => (f.baseline ? fmt(f.baseline.value, f.unit) : '');
export const formatRatio = (f: Figure): string => (f.ratio === undefined ? '' : fmt(f.ratio));
export const formatGoal = (f: Figure): string => (f.goal ? `${f.goal.on === 'ratio' ? 'ratio' : ''} ≤ ${fmt(f.goal.max, f.goal.on === 'ratio' ? '' : f.unit)}`.trim() : '');
export const formatPass = (f: Figure): string => (f.pass === undefined ? '' : f.pass ? 'pass' : 'FAIL');

export function table(figures: Figure[]): string {
  const header = ['figure', 'value', 'baseline', 'ratio', 'goal', 'result'];
  const rows = figures.map((f) => [`${f.scenario}: ${f.label}`, formatValue(f), formatBaseline(f), formatRatio(f), formatGoal(f), formatPass(f)]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}
