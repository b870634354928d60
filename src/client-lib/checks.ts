/**
 * The client's input checks, made before anything is started, and the translation of a
 * workflow's refusal into the caller's error.
 */
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { z } from 'zod';
import { environmentNameProblem } from '../domain/environment-names';
import { NOT_FOUND } from '../domain/failure-types';
import { projectIdSchema } from '../domain/schemas';
import { InvalidInputError, NotFoundError, SlipwayError } from '../errors';

/** The innermost message of a failure chain: an activity's own words, not "Activity task failed". */
function failureMessage(err: Error): string {
  let e: unknown = err.cause ?? err;
  while (e instanceof Error && e.cause instanceof Error && /^Activity task failed$|^Update failed$/.test(e.message)) e = e.cause;
  return e instanceof Error ? e.message : String(e);
}

/** A refused Update as the caller's error: not found (404 in the API) or refused (409). */
export function updateRefusal(err: WorkflowUpdateFailedError): SlipwayError {
  if (err.cause instanceof ApplicationFailure && err.cause.type === NOT_FOUND) return new NotFoundError(err.cause.message);
  return new SlipwayError(`refused: ${failureMessage(err)}`);
}

export function zodMessage(err: z.ZodError): string {
  return err.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; ');
}

/** A project named by a caller: refused as bad input unless it could exist. */
export function checkProjectId(project: string): void {
  const id = projectIdSchema.safeParse(project);
  if (!id.success) throw new InvalidInputError(zodMessage(id.error));
}

/** A project and environment named by a caller: refused as bad input unless both could exist. */
export function checkEnvironmentRef(project: string, environment: string): void {
  checkProjectId(project);
  const problem = environmentNameProblem(environment);
  if (problem) throw new InvalidInputError(problem);
}
