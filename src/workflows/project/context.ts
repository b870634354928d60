/**
 * What the parts of the project workflow share: its state, the outcomes still to tell closed
 * tickets, how the registry looks a name up, and how a rule's refusal reaches the caller. Each
 * part (environments, SSH keys, promotions, tickets) registers its handlers on it.
 */
import { ApplicationFailure, patched } from '@temporalio/workflow';
import { REFUSED, refusalType, type Refusal } from '../../domain/failure-types';
import type { EnvironmentEntry, ProjectState } from '../../domain/project';
import { notReadyRefusal, type Registry } from '../../domain/project-rules';

/** Names such as "constructor" are keys of every JS object; since this patch they name no environment. */
const OWN_NAMES_PATCH = 'environment-names-are-own-keys';

export interface ProjectContext {
  readonly state: ProjectState;
  /** Outcomes to tell closed tickets (sent from the main loop: signals cannot be awaited in handlers). */
  readonly outbox: Array<{ ticket: number; outcome: string }>;
  /**
   * The registry's entry of a name. An inherited key ("constructor") was taken for an
   * environment before OWN_NAMES_PATCH; histories made then replay as they ran.
   */
  entryOf(name: string): EnvironmentEntry | undefined;
  /** The registry as the rules read it, with this lookup. */
  registry(): Registry;
  /**
   * An Update's validator: refused while the project is being created, then as the rule says.
   * What does not exist is told apart from what is refused (the API answers 404, not 409).
   */
  validate(rule: () => Refusal | undefined): void;
  /** Handlers check again before they change anything: updates may have been accepted together. */
  recheck(problem: Refusal | undefined): void;
}

const failure = (message: string, type: string): ApplicationFailure => ApplicationFailure.create({ message, type, nonRetryable: true });

export function projectContext(state: ProjectState): ProjectContext {
  /** True while a validator runs: it may not call patched(). */
  let validating = false;
  const entryOf = (name: string): EnvironmentEntry | undefined => {
    if (Object.prototype.hasOwnProperty.call(state.environments, name)) return state.environments[name];
    if (!(name in state.environments) || validating || patched(OWN_NAMES_PATCH)) return undefined;
    return state.environments[name];
  };
  return {
    state,
    outbox: [],
    entryOf,
    registry: () => ({ project: state.project, plan: state.plan, environments: state.environments, entryOf }),
    validate(rule) {
      const notReady = notReadyRefusal(state);
      if (notReady) throw failure(notReady.message, refusalType(notReady));
      validating = true;
      let problem: Refusal | undefined;
      try {
        problem = rule();
      } finally {
        validating = false;
      }
      if (problem) throw failure(problem.message, refusalType(problem));
    },
    recheck(problem) {
      if (problem) throw failure(problem.message, REFUSED);
    },
  };
}
