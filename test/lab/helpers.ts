/** Shared fixtures for the lab tests: a model on a hand-driven clock, a gMSA spec, a session configuration. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BackendError } from '../../backends/errors';
import { LabDomain, type LabDomainOptions } from '../../backends/lab/model';
import type { NewServiceAccount } from '../../backends/ports';
import { buildSessionConfiguration, type SessionConfigurationFile } from '../../runbook/session-configuration';

export const T0 = Date.parse('2030-01-01T00:00:00.000Z');

export interface Clocked {
  lab: LabDomain;
  /** Move the lab's clock forward by ms. */
  advance: (ms: number) => void;
  at(): number;
}

/** timeScale 1 by default, so the assertions read in real-world latencies (15 s, 18 s, 915 s). */
export function clockedLab(opts: Omit<LabDomainOptions, 'now'> = {}): Clocked {
  let t = T0;
  const lab = new LabDomain({ timeScale: 1, ...opts, now: () => t });
  return { lab, advance: (ms) => void (t += ms), at: () => t };
}

export function gmsaSpec(name = 'svc-remote', principals: string[] = ['SERVER1$']): NewServiceAccount {
  return {
    name,
    dnsHostName: `${name}.lab.local`,
    description: 'Managed by gmsa-runbooks [gmsa-runbooks:test]',
    principals,
    kerberosEncryptionTypes: ['AES128', 'AES256'],
    managedPasswordIntervalInDays: 30,
  };
}

export function pssc(gmsaName = 'svc-remote', endpoint = 'JEA-Remote'): SessionConfigurationFile {
  return buildSessionConfiguration({
    endpoint: {
      name: endpoint,
      sessionType: 'RestrictedRemoteServer',
      allowUnrestrictedSessionType: false,
      roleDefinitions: { 'LAB\\JEA-Operators': { roleCapabilities: ['GmsaRunbookOps'] } },
      transcriptDirectory: 'C:\\Transcripts\\',
    },
    domainNetbios: 'LAB',
    gmsaName,
    mark: '[gmsa-runbooks:test]',
  });
}

/** The BackendError `fn` throws (fails the test if it throws something else or nothing). */
export function caught(fn: () => unknown): BackendError {
  try {
    fn();
  } catch (err) {
    if (err instanceof BackendError) return err;
    throw err;
  }
  throw new Error('expected a BackendError, nothing was thrown');
}

export async function caughtAsync(p: Promise<unknown>): Promise<BackendError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof BackendError) return err;
    throw err;
  }
  throw new Error('expected a BackendError, nothing was thrown');
}

export function tempStateFile(): string {
  return join(mkdtempSync(join(tmpdir(), 'gmsa-lab-')), 'lab-state.json');
}
