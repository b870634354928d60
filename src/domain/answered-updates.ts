/**
 * An Update's answer kept in an entity workflow's state, by Update ID, so that the same Update
 * sent again after continue-as-new gets it rather than running twice
 * (src/workflows/lib/answered-updates.ts).
 */
export interface AnsweredUpdate {
  id: string;
  result: unknown;
}
