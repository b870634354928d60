/** What every scenario gets, and what it returns. */
import type { BenchStack } from '../lib/stack';
import type { Figure } from '../lib/results';

export interface ScenarioContext {
  /** The running stack (scenarios that need none get it anyway; it is started once). */
  stack: BenchStack;
  /** Measured runs per figure (after `warmup` unmeasured ones). */
  runs: number;
  warmup: number;
  /** Environment counts of the scale scenario, and its runs per count. */
  scale: number[];
  scaleRuns: number;
  log: (line: string) => void;
}

export interface Scenario {
  name: string;
  title: string;
  run(ctx: ScenarioContext): Promise<{ figures: Figure[]; notes: string[] }>;
}
