/** The workflow bundle's entry point: every workflow the worker runs. */
export { projectWorkflow } from './project';
export { environmentWorkflow } from './environment';
export { deploymentWorkflow } from './deployment';
export { ticketWorkflow } from './ticket';
export { promotionWorkflow } from './promotion';
export { cronRunWorkflow } from './cron-run';
export { hostSupervisorWorkflow } from './host-supervisor';
