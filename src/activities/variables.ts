/**
 * The engine's activities on the variable store (src/variables/store.ts): a ticket's change
 * applied once approved, or dropped. Neither input nor result holds a value.
 */
import type { Layout } from '../home';
import { settlePending } from '../variables/store';

export interface SettleVariableChange {
  project: string;
  /** The id the client staged the change under. */
  change: string;
  approved: boolean;
}

export function createVariableActivities(layout: Layout) {
  return {
    /**
     * Applies (or drops) a staged variable change; what it touched, and whether the build saw
     * the variable before or after (then the environment is built again).
     */
    async settleVariableChange(input: SettleVariableChange): Promise<{ environment: string; name: string; build: boolean } | undefined> {
      const c = await settlePending(layout, input.project, input.change, input.approved);
      if (!c) return undefined;
      return { environment: c.environment, name: c.name, build: c.wasBuild || (c.variable?.build ?? false) };
    },
  };
}
