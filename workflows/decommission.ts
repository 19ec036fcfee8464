/** decommissionGmsaRemoting: the undo of provisioning (filled in by the decommission work). */
import { ApplicationFailure } from '@temporalio/workflow';
import type { VerifyTarget } from '../runbook/verify';

export async function decommissionGmsaRemoting(target: VerifyTarget): Promise<void> {
  await Promise.resolve();
  throw ApplicationFailure.nonRetryable(`decommissioning ${target.gmsaName} is not implemented yet`, 'NotImplemented');
}
