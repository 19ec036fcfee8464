/** Read-only verification of a provisioned target (filled in by the verification work; see runbook/verify.ts). */
import type { Backend } from '../backends/ports';
import type { DriftCheck, VerifyTarget } from '../runbook/verify';

export function createVerifyActivities(backend: Backend) {
  void backend;
  return {
    async verifyDirectory(target: VerifyTarget): Promise<DriftCheck[]> {
      void target;
      return Promise.reject(new Error('not implemented yet'));
    },
    async verifyHost(input: { target: VerifyTarget; host: string }): Promise<DriftCheck[]> {
      void input;
      return Promise.reject(new Error('not implemented yet'));
    },
  };
}
