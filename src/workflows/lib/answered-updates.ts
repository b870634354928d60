/**
 * Updates answered once, even across continue-as-new. The server answers an Update sent again
 * with the same Update ID from the first one only within one run: a client that sends it again
 * after the workflow continued as new (its long poll ended before the answer, under load) lands
 * on the new run, which would run the handler a second time (a branch refused as "exists
 * already", a second redeployment). So the entity workflows remember the last answers by Update
 * ID in their state, which continue-as-new carries, and answer a repeat from there: its
 * validator accepts it and its handler returns the first answer without doing anything.
 *
 * Only answers are kept: a refused or failed Update changed nothing, so a repeat is decided
 * again. Deterministic code (state only; no command), so it needs no patch: replaying an old
 * history finds no remembered answer and runs every handler as it ran.
 */
import type { UpdateDefinition } from '@temporalio/common';
import { currentUpdateInfo, setHandler } from '@temporalio/workflow';
import type { Handler } from '@temporalio/workflow/lib/interfaces';
import type { AnsweredUpdate } from '../../domain/answered-updates';

/** How many answers a workflow keeps (the newest): repeats come within seconds of the first. */
export const ANSWERED_UPDATES_KEPT = 64;

/** A workflow state that keeps its last answers. */
export interface RemembersAnswers {
  answeredUpdates?: AnsweredUpdate[];
}

const answerTo = (state: RemembersAnswers): AnsweredUpdate | undefined => {
  const id = currentUpdateInfo()?.id;
  return id === undefined ? undefined : state.answeredUpdates?.find((a) => a.id === id);
};

/** `setHandler` for an Update whose repeat (same Update ID, any run) gets the first answer. */
export function setAnsweredOnceHandler<Ret, Args extends unknown[], Name extends string>(
  state: RemembersAnswers,
  definition: UpdateDefinition<Ret, Args, Name>,
  handler: (...args: Args) => Ret | Promise<Ret>,
  options: { validator?: (...args: Args) => void; description?: string } = {},
): void {
  const { validator } = options;
  const answeredOnce = async (...args: Args): Promise<Ret> => {
    const id = currentUpdateInfo()?.id;
    const known = answerTo(state);
    if (known) return known.result as Ret;
    const result = await handler(...args);
    if (id !== undefined) state.answeredUpdates = [...(state.answeredUpdates ?? []), { id, result }].slice(-ANSWERED_UPDATES_KEPT);
    return result;
  };
  setHandler<Ret, Args, UpdateDefinition<Ret, Args, Name>>(
    definition,
    // The SDK's Handler type is conditional on the definition: the same function, seen through it.
    answeredOnce as Handler<Ret, Args, UpdateDefinition<Ret, Args, Name>>,
    {
      ...(options.description !== undefined ? { description: options.description } : {}),
      ...(validator
        ? {
            validator: (...args: Args): void => {
              if (answerTo(state)) return;
              validator(...args);
            },
          }
        : {}),
    },
  );
}
