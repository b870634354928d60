/**
 * An Update can reach a workflow in its very first activation (Update-with-Start, or one
 * buffered across continue-as-new): it is dispatched the moment its handler is registered,
 * so every rule a validator uses must exist by then. Regression test for a validator that ran
 * before the rules it called were initialised.
 */
import { strict as assert } from 'node:assert';
import { WithStartWorkflowOperation } from '@temporalio/client';
import { ENGINE_TASK_QUEUE, workflowIds } from '../../src/domain/names';
import { allocateTicketUpdate, branchUpdate, projectWorkflow } from '../../src/workflows/project';
import { getWorld, sampleVariant, uniqueName } from '../harness/world';

describe('updates delivered in the first activation', function () {
  for (const [name, run] of [
    ['allocateTicket', (c: Awaited<ReturnType<typeof getWorld>>['client'], op: WithStartWorkflowOperation<typeof projectWorkflow>) =>
      c.temporal.workflow.executeUpdateWithStart(allocateTicketUpdate, { startWorkflowOperation: op })],
    ['branch', (c: Awaited<ReturnType<typeof getWorld>>['client'], op: WithStartWorkflowOperation<typeof projectWorkflow>) =>
      c.temporal.workflow.executeUpdateWithStart(branchUpdate, { args: [{ name: 'early' }], startWorkflowOperation: op })],
  ] as const) {
    it(`${name}: validated by the rules, not by an uninitialised function`, async function () {
      const { client } = await getWorld();
      const project = uniqueName('early');
      const op = new WithStartWorkflowOperation(projectWorkflow, {
        workflowId: workflowIds.project(project),
        taskQueue: ENGINE_TASK_QUEUE,
        workflowIdConflictPolicy: 'FAIL',
        args: [{ project, plan: 'pro', from: sampleVariant(), host: 'local', environments: {} }],
      });
      await assert.rejects(run(client, op), (err: Error) => {
        const message = `${err.message} ${err.cause instanceof Error ? err.cause.message : ''}`;
        assert.doesNotMatch(message, /before initialization/);
        assert.match(message, /still being created/);
        return true;
      });
      // The project goes on to be created normally.
      const info = await client.temporal.workflow.getHandle(workflowIds.project(project)).executeUpdate('awaitReady');
      assert.ok(info);
    });
  }
});
