/** What a scenario reports: figures, each with its samples, baseline, ratio and goal. */
import { median, ratio as ratioOf, round } from './stats';

/** Every goal of the issue is an upper bound, on the figure itself or on its ratio to the baseline. */
export interface Goal {
  max: number;
  on: 'value' | 'ratio';
}

export interface Figure {
  scenario: string;
  id: string;
  label: string;
  unit: string;
  /** How `value` summarises the samples: median unless said otherwise (p95, max, …). */
  stat: string;
  value: number;
  samples: number[];
  baseline?: { label: string; value: number; samples: number[] };
  ratio?: number;
  goal?: Goal;
  pass?: boolean;
  note?: string;
}

export interface FigureInput {
  id: string;
  label: string;
  unit: string;
  samples: number[];
  stat?: string;
  /** Defaults to the median of the samples. */
  value?: number;
  baseline?: { label: string; samples: number[] };
  goal?: Goal;
  note?: string;
}

export function figure(scenario: string, f: FigureInput): Figure {
  const value = f.value ?? median(f.samples);
  const baseline = f.baseline && { label: f.baseline.label, value: round(median(f.baseline.samples)), samples: f.baseline.samples.map(round) };
  const r = baseline ? ratioOf(value, median(f.baseline!.samples)) : undefined;
  const checked = f.goal?.on === 'ratio' ? r : value;
  return {
    scenario,
    id: f.id,
    label: f.label,
    unit: f.unit,
    stat: f.stat ?? 'median',
    value: round(value),
    samples: f.samples.map(round),
    ...(baseline ? { baseline, ratio: round(r!) } : {}),
    ...(f.goal ? { goal: f.goal, pass: checked !== undefined && Number.isFinite(checked) && checked <= f.goal.max } : {}),
    ...(f.note ? { note: f.note } : {}),
  };
}

export interface ScenarioResult {
  name: string;
  title: string;
  runs: number;
  durationMs: number;
  figures: Figure[];
  notes: string[];
}

export interface MachineInfo {
  cpus: number;
  cpuModel: string;
  memoryGb: number;
  node: string;
  os: string;
  git: string;
  temporal: string;
}

export interface BenchReport {
  startedAt: string;
  finishedAt: string;
  command: string;
  options: Record<string, unknown>;
  machine: MachineInfo;
  scenarios: ScenarioResult[];
}
