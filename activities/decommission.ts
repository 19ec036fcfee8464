/**
 * Decommissioning steps that provisioning has no undo for. The removals themselves are the provisioning undos
 * (activities/directory.ts, activities/hosts.ts), reused as they are; what is here only picks where to act, looks
 * before acting (so the report can tell "removed" from "already gone" and "not ours"), and holds the schedule.
 */
import { getClient } from '@temporalio/activity';
import { ScheduleNotFoundError } from '@temporalio/client';
import { BackendError } from '../backends/errors';
import type { Backend } from '../backends/ports';
import { FailureType } from '../runbook/failures';
import { carriesMark } from '../runbook/marks';
import { verifyScheduleId } from '../runbook/verify';
import { typed } from './failures';

export type Ownership = 'absent' | 'ours' | 'not-ours';

export interface InspectDirectoryInput {
  dc: string;
  gmsaName: string;
  principalsAdded: string[];
  group: string | null;
  groupMembersAdded: string[];
  /** The target's hosts, to find which host a member computer is (its tickets are purged after removal). */
  hosts: string[];
}

export interface DirectoryInspection {
  /** Of the principals provisioning added, those still on the gMSA (none when the gMSA is gone). */
  principalsPresent: string[];
  /** Of the members provisioning added to the group, those still in it, with their host when one matches. */
  members: { computerSam: string; host: string | null; present: boolean }[];
}

const eqi = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

export function createDecommissionActivities(backend: Backend) {
  const dir = backend.directory;

  /** A group deleted since provisioning has none of our members left in it: nothing to remove, not a failure. */
  async function groupMembersOrNone(dc: string, group: string): Promise<string[]> {
    try {
      return await dir.getGroupMembers(dc, group);
    } catch (err) {
      if (err instanceof BackendError && err.type === FailureType.ObjectNotFound) return [];
      throw err;
    }
  }

  return {
    /**
     * A writable DC that answers, in name order (as preflight pins one, without a site preference: the hosts'
     * sites do not matter for removals). Every directory change of the run goes to it, so each step reads what
     * the previous one wrote.
     */
    async pickWritableDc(): Promise<{ dc: string }> {
      return typed(async () => {
        const dcs = (await dir.listDomainControllers())
          .filter((d) => d.writable)
          .sort((a, b) => a.hostName.localeCompare(b.hostName));
        let lastError: BackendError | undefined;
        for (const d of dcs) {
          try {
            await dir.getKdsRootKeys(d.hostName);
            return { dc: d.hostName };
          } catch (err) {
            if (!(err instanceof BackendError && err.type === FailureType.ServerDown)) throw err;
            lastError = err;
          }
        }
        throw lastError ?? new BackendError(FailureType.ServerDown, 'no writable domain controller found');
      });
    },

    /** Is the endpoint there, and does it carry the provisioning run's mark? Read-only. */
    async inspectEndpoint(input: { host: string; name: string; mark: string }): Promise<Ownership> {
      return typed(async () => {
        const current = await backend.hosts.getSessionConfiguration(input.host, input.name);
        if (!current) return 'absent';
        return carriesMark(current.description, input.mark) ? 'ours' : 'not-ours';
      });
    },

    /** What is left of the principals and group members provisioning added. Read-only. */
    async inspectDirectory(input: InspectDirectoryInput): Promise<DirectoryInspection> {
      return typed(async () => {
        let principalsPresent: string[] = [];
        if (input.principalsAdded.length > 0) {
          const sa = await dir.getServiceAccount(input.dc, input.gmsaName);
          principalsPresent = sa ? input.principalsAdded.filter((p) => sa.principals.some((q) => eqi(p, q))) : [];
        }
        const members: DirectoryInspection['members'] = [];
        if (input.group && input.groupMembersAdded.length > 0) {
          const current = await groupMembersOrNone(input.dc, input.group);
          // The directory says which host a computer account is; a name guess could miss a renamed host.
          const hostOf = new Map<string, string>();
          for (const host of input.hosts) {
            const computer = await dir.getComputer(input.dc, host);
            if (computer) hostOf.set(computer.samAccountName.toLowerCase(), host);
          }
          for (const sam of input.groupMembersAdded) {
            members.push({
              computerSam: sam,
              host: hostOf.get(sam.toLowerCase()) ?? null,
              present: current.some((m) => eqi(m, sam)),
            });
          }
        }
        return { principalsPresent, members };
      });
    },

    /**
     * Group mode, for a member whose host is not among the target's hosts any more: only the group membership
     * goes (deauthorizeHost also purges the host's tickets, which needs the host).
     */
    async removeGroupMember(input: { dc: string; group: string; member: string }): Promise<void> {
      return typed(async () => {
        const members = await groupMembersOrNone(input.dc, input.group);
        if (members.some((m) => eqi(m, input.member))) await dir.removeGroupMember(input.dc, input.group, input.member);
      });
    },

    /**
     * Pause the re-verification schedule while decommissioning runs: a verification that remediates would
     * otherwise put back what is being removed. It is deleted only when everything is gone, so a failed
     * decommission can be re-run from it.
     */
    async pauseVerifySchedule(input: { gmsaName: string; note: string }): Promise<{ paused: boolean }> {
      return typed(async () => {
        try {
          await getClient().schedule.getHandle(verifyScheduleId(input.gmsaName)).pause(input.note);
          return { paused: true };
        } catch (err) {
          if (err instanceof ScheduleNotFoundError) return { paused: false };
          throw err;
        }
      });
    },
  };
}
