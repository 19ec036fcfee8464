/** The workflows the worker registers (Temporal bundles this file and what it imports). */
export { provisionGmsaRemoting } from './provision';
export { verifyGmsaRemoting } from './verify';
export { decommissionGmsaRemoting } from './decommission';
