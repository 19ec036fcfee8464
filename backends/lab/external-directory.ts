/**
 * The hybrid configuration: the directory is real (Samba or Windows AD over LDAPS) and the hosts are the lab's.
 * A host asks its site's DC for the gMSA's password; here that question goes to the real directory, so a run
 * that never wrote to the real directory cannot verify, exactly as on real hosts.
 */
import { BackendError } from '../errors';
import type { DirectoryPort, DomainController } from '../ports';
import { FailureType } from '../../runbook/failures';
import { kdsRootKeyUsable } from '../../runbook/kds';
import type { ExternalDirectoryFacts } from './model';

export interface HostContext {
  site: string;
  computerSam: string;
  /** Groups whose membership could matter (the lab's known groups and the gMSA's group principals). */
  knownGroups: string[];
}

const eqi = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

/** The host's site DCs first, then the rest: the first that answers is the one the host would use. */
async function withSiteDc<T>(
  directory: DirectoryPort,
  site: string,
  ask: (dc: DomainController) => Promise<T>,
): Promise<T> {
  const dcs = await directory.listDomainControllers();
  const ordered = [...dcs.filter((d) => eqi(d.site, site)), ...dcs.filter((d) => !eqi(d.site, site))];
  let last: BackendError | undefined;
  for (const dc of ordered) {
    try {
      return await ask(dc);
    } catch (err) {
      if (err instanceof BackendError && err.type === FailureType.ServerDown) {
        last = err;
        continue;
      }
      throw err;
    }
  }
  throw last ?? new BackendError(FailureType.ServerDown, 'no domain controller answers');
}

/** `LAB\svc$` or `svc` → `svc`. */
function accountName(account: string): string {
  return (account.includes('\\') ? account.split('\\')[1] : account).replace(/\$$/, '');
}

export async function fetchExternalFacts(
  directory: DirectoryPort,
  host: HostContext,
  gmsaAccount: string | null,
): Promise<ExternalDirectoryFacts> {
  return withSiteDc(directory, host.site, async (dc) => {
    const gmsa = gmsaAccount ? await directory.getServiceAccount(dc.hostName, accountName(gmsaAccount)) : null;
    const candidates = new Set([...host.knownGroups, ...(gmsa?.principals.filter((p) => !p.endsWith('$')) ?? [])]);
    const computerGroups: string[] = [];
    for (const group of candidates) {
      try {
        const members = await directory.getGroupMembers(dc.hostName, group);
        if (members.some((m) => eqi(m, host.computerSam))) computerGroups.push(group);
      } catch (err) {
        if (!(err instanceof BackendError && err.type === FailureType.ObjectNotFound)) throw err;
      }
    }
    const keys = await directory.getKdsRootKeys(dc.hostName);
    return {
      gmsa: gmsa ? { samAccountName: gmsa.samAccountName, principals: gmsa.principals } : null,
      computerGroups: computerGroups.sort(),
      kdsUsable: keys.some((k) => kdsRootKeyUsable(k, Date.now())),
    };
  });
}
