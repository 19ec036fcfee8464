/** verifyGmsaRemoting: read-only re-verification of a provisioned target (filled in by the verification work). */
import { ApplicationFailure } from '@temporalio/workflow';
import type { DriftReport, VerifyTarget } from '../runbook/verify';

export async function verifyGmsaRemoting(target: VerifyTarget): Promise<DriftReport> {
  await Promise.resolve();
  throw ApplicationFailure.nonRetryable(`verification of ${target.gmsaName} is not implemented yet`, 'NotImplemented');
}
