/** The floor workflow's only activity: it does nothing. */
export const floorActivities = {
  nothing(step: string): Promise<string> {
    return Promise.resolve(step);
  },
};
export type FloorActivities = typeof floorActivities;
