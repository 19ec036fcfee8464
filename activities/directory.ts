/**
 * Directory steps: create (or adopt) the gMSA on the pinned DC, watch it replicate, and their undos.
 * Each is idempotent: check, act, check. An undo touches only what carries this run's mark or what the plan
 * says this run added.
 */
import { BackendError } from '../backends/errors';
import type { Backend, NewServiceAccount, ServiceAccount } from '../backends/ports';
import { FailureType } from '../runbook/failures';
import { carriesMark } from '../runbook/marks';
import { mapBounded } from './bounded';
import { stepFailure, typed } from './failures';
import { heartbeatOnceBusy } from './heartbeat';

export interface EnsureServiceAccountInput extends NewServiceAccount {
  dc: string;
  mark: string;
}

export interface ServiceAccountRef {
  dc: string;
  name: string;
  mark: string;
}

export interface PrincipalChange {
  dc: string;
  name: string;
  principals: string[];
}

export interface ReplicationCheckInput {
  pinnedDc: string;
  dcs: string[];
  name: string;
  objectGuid: string;
  expectedPrincipals: string[];
  /** Ask the pinned DC to push the object to the DCs that lack it (Sync-ADObject). */
  syncObject: boolean;
}

export interface ReplicationStatus {
  converged: string[];
  pending: { dc: string; reason: string }[];
}

const lower = (xs: string[]) => xs.map((x) => x.toLowerCase());

function hasPrincipals(sa: ServiceAccount, expected: string[]): boolean {
  const have = new Set(lower(sa.principals));
  return lower(expected).every((p) => have.has(p));
}

async function ignoreNotFound(body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (err) {
    if (!(err instanceof BackendError && err.type === FailureType.ObjectNotFound)) throw err;
  }
}

/** DCs asked at once by one replication check. */
const MAX_PARALLEL_DC_LOOKS = 8;

export function createDirectoryActivities(backend: Backend) {
  const dir = backend.directory;

  const replicated = (sa: ServiceAccount | null, input: ReplicationCheckInput): boolean =>
    sa !== null && sa.objectGuid === input.objectGuid && hasPrincipals(sa, input.expectedPrincipals);

  /** One DC: null when it has the object with the principals, else why not (after an optional Sync-ADObject). */
  async function lookAtDc(input: ReplicationCheckInput, dc: string): Promise<string | null> {
    heartbeatOnceBusy(dc);
    let reason: string;
    try {
      const sa = await dir.getServiceAccount(dc, input.name);
      if (replicated(sa, input)) return null;
      reason = !sa
        ? 'object not replicated yet'
        : sa.objectGuid !== input.objectGuid
          ? 'a different object with this name'
          : 'principals not replicated yet';
    } catch (err) {
      if (!(err instanceof BackendError) || !err.retryable) throw err;
      reason = `unreachable: ${err.message}`;
    }
    if (input.syncObject && dc !== input.pinnedDc) {
      try {
        await dir.syncObject(input.pinnedDc, dc, input.objectGuid);
        if (replicated(await dir.getServiceAccount(dc, input.name), input)) return null;
      } catch (err) {
        if (!(err instanceof BackendError)) throw err;
        reason = `${reason}; Sync-ADObject failed: ${err.message}`;
      }
    }
    return reason;
  }

  return {
    /** New-ADServiceAccount on the pinned DC, or find our own earlier attempt (a retry after a lost reply). */
    async ensureServiceAccount(input: EnsureServiceAccountInput): Promise<{ objectGuid: string; created: boolean }> {
      return typed(async () => {
        const before = await dir.getServiceAccount(input.dc, input.name);
        if (before) {
          if (carriesMark(before.description, input.mark)) return { objectGuid: before.objectGuid, created: false };
          throw stepFailure(
            FailureType.GmsaNameConflict,
            `gMSA ${input.name} appeared on ${input.dc} after preflight and is not this run's; it is left alone`,
          );
        }
        const { dc, mark: _mark, ...spec } = input;
        await dir.createServiceAccount(dc, spec);
        const after = await dir.getServiceAccount(input.dc, input.name);
        if (!after || !carriesMark(after.description, input.mark)) {
          throw stepFailure(
            FailureType.ObjectNotFound,
            `gMSA ${input.name} was not readable on ${input.dc} after creation`,
          );
        }
        return { objectGuid: after.objectGuid, created: true };
      });
    },

    /** Undo of ensureServiceAccount: removes the gMSA only when it carries this run's mark. */
    async removeServiceAccountIfOurs(ref: ServiceAccountRef): Promise<{ removed: boolean; reason: string }> {
      return typed(async () => {
        const sa = await dir.getServiceAccount(ref.dc, ref.name);
        if (!sa) return { removed: false, reason: 'absent' };
        if (!carriesMark(sa.description, ref.mark)) return { removed: false, reason: 'not created by this run' };
        await ignoreNotFound(() => dir.removeServiceAccount(ref.dc, sa.objectGuid));
        if (await dir.getServiceAccount(ref.dc, ref.name)) {
          throw stepFailure(FailureType.TransientFault, `gMSA ${ref.name} is still on ${ref.dc} after removal`);
        }
        return { removed: true, reason: 'created by this run' };
      });
    },

    /** Adopted gMSA: read-modify-write, because Set-ADServiceAccount replaces the whole list. */
    async addServiceAccountPrincipals(change: PrincipalChange): Promise<string[]> {
      return typed(async () => {
        const sa = await dir.getServiceAccount(change.dc, change.name);
        if (!sa) throw stepFailure(FailureType.ObjectNotFound, `gMSA ${change.name} not found on ${change.dc}`);
        const have = new Set(lower(sa.principals));
        const missing = change.principals.filter((p) => !have.has(p.toLowerCase()));
        if (missing.length === 0) return sa.principals;
        return (await dir.setServiceAccountPrincipals(change.dc, sa.objectGuid, [...sa.principals, ...missing]))
          .principals;
      });
    },

    /** Undo of addServiceAccountPrincipals: removes exactly the principals this run added, keeps the rest. */
    async removeServiceAccountPrincipals(change: PrincipalChange): Promise<string[]> {
      return typed(async () => {
        const sa = await dir.getServiceAccount(change.dc, change.name);
        if (!sa) return [];
        const drop = new Set(lower(change.principals));
        const keep = sa.principals.filter((p) => !drop.has(p.toLowerCase()));
        if (keep.length === sa.principals.length) return sa.principals;
        return (await dir.setServiceAccountPrincipals(change.dc, sa.objectGuid, keep)).principals;
      });
    },

    /**
     * One look at every DC, all of them at once (a DC across a site link answers slowly; the look costs the
     * slowest answer, not the sum). Never fails on a DC that lacks the object or does not answer: that is what the
     * workflow's wait is for. Only the workflow decides when waiting has gone on too long.
     */
    async checkReplication(input: ReplicationCheckInput): Promise<ReplicationStatus> {
      return typed(async () => {
        const looks = await mapBounded(input.dcs, MAX_PARALLEL_DC_LOOKS, (dc) => lookAtDc(input, dc));
        const status: ReplicationStatus = { converged: [], pending: [] };
        input.dcs.forEach((dc, i) => {
          const reason = looks[i];
          if (reason === null) status.converged.push(dc);
          else status.pending.push({ dc, reason });
        });
        return status;
      });
    },
  };
}
