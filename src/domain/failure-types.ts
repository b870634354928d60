/**
 * Every Temporal `ApplicationFailure` type Slipway raises or expects: the one home of these
 * names. Retry policies list some as not retryable; the client tells them apart (a not-found
 * answers 404 in the API, a refusal 409). Pure: shared by workflow code and the Node side.
 */

/** A request the rules refuse (the registry, a ticket, a Git operation): never retried. */
export const REFUSED = 'SlipwayRefused';
/** A request that names what does not exist (an environment of a project). */
export const NOT_FOUND = 'SlipwayNotFound';
/** Input no operation could accept (a malformed name, a commit that is not one). */
export const INVALID_INPUT = 'SlipwayInvalidInput';
/** A merge of two branches that conflict. */
export const MERGE_CONFLICT = 'SlipwayMergeConflict';
/** A step that must not be retried (a user's hook or file is at fault). */
export const STEP_FAILED = 'SlipwayStepFailed';
/** What a failed deployment workflow ends with. */
export const DEPLOYMENT_FAILED = 'SlipwayDeploymentFailed';
/** A host's step run locally by an engine that is not that host: the step runs on the host's queue. */
export const NOT_THIS_HOST = 'SlipwayNotThisHost';

/** Why a rule turns a request down: what it names does not exist, or the rules refuse it. */
export interface Refusal {
  kind: 'not-found' | 'refused';
  message: string;
}

export const refused = (message: string): Refusal => ({ kind: 'refused', message });
export const notFound = (message: string): Refusal => ({ kind: 'not-found', message });

/** The failure type that carries a refusal to the caller. */
export const refusalType = (r: Refusal): typeof NOT_FOUND | typeof REFUSED => (r.kind === 'not-found' ? NOT_FOUND : REFUSED);
