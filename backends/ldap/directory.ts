/**
 * The directory half of the backend interface over LDAPS, for Windows AD and Samba AD alike. It does what the
 * ActiveDirectory cmdlets would (New-ADServiceAccount's name and KDS checks included), so that the lab, Samba
 * and Windows answer the contract suite the same way. Filters are built as objects (values escaped by ldapts),
 * never by splicing text.
 */
import { AndFilter, Attribute, Change, EqualityFilter, OrFilter, type Client, type Entry, type Filter } from 'ldapts';
import { BackendError } from '../errors';
import type {
  ComputerAccount,
  DirectoryObjectClass,
  DirectoryObjectRef,
  DirectoryPort,
  DomainController,
  NewServiceAccount,
  ServiceAccount,
} from '../ports';
import { FailureType } from '../../runbook/failures';
import { kdsRootKeyUsable, type KdsRootKey } from '../../runbook/kds';
import {
  bitsToEncryptionTypes,
  buildGroupMsaMembership,
  encryptionTypesToBits,
  fileTimeToIso,
  guidToBuffer,
  guidToString,
  readGroupMsaMembership,
  sidToBuffer,
  sidToString,
} from './codec';
import type { LdapConfig } from './config';
import { DcConnections } from './connections';

const GMSA_CLASS = 'msDS-GroupManagedServiceAccount';
const BINARY = ['objectGUID', 'objectSid', 'msDS-GroupMSAMembership'];
const ACCOUNT_ATTRIBUTES = ['objectGUID', 'objectClass', 'sAMAccountName', 'distinguishedName'];
const GMSA_ATTRIBUTES = [
  ...ACCOUNT_ATTRIBUTES,
  'name',
  'dNSHostName',
  'description',
  'msDS-GroupMSAMembership',
  'msDS-SupportedEncryptionTypes',
  'msDS-ManagedPasswordInterval',
];
/** userAccountControl WORKSTATION_TRUST_ACCOUNT, as New-ADServiceAccount sets it. */
const UAC_WORKSTATION_TRUST_ACCOUNT = '4096';
/** sAMAccountName including the `$` (the cmdlet's rule; Samba itself would take 16). */
const MAX_SAM_LENGTH = 15;

const eq = (attribute: string, value: string | Buffer): Filter => new EqualityFilter({ attribute, value });
const and = (...filters: Filter[]): Filter => new AndFilter({ filters });
const or = (...filters: Filter[]): Filter => new OrFilter({ filters });

function str(entry: Entry, attribute: string): string | null {
  const v = entry[attribute];
  const first = Array.isArray(v) ? v[0] : v;
  if (first === undefined) return null;
  return Buffer.isBuffer(first) ? first.toString('utf8') : first;
}

function buf(entry: Entry, attribute: string): Buffer | null {
  const v = entry[attribute];
  const first = Array.isArray(v) ? v[0] : v;
  return Buffer.isBuffer(first) ? first : null;
}

function classOf(entry: Entry): DirectoryObjectClass {
  const raw = entry.objectClass;
  const classes = (Array.isArray(raw) ? raw : [raw]).map((c) => String(c).toLowerCase());
  if (classes.includes(GMSA_CLASS.toLowerCase())) return GMSA_CLASS;
  if (classes.includes('computer')) return 'computer';
  if (classes.includes('group')) return 'group';
  return 'user';
}

/** RFC 4514 escaping of one RDN value; names are validated upstream, this is the belt to those braces. */
function escapeRdnValue(value: string): string {
  return value
    .replace(/[,+"\\<>;=]/g, (c) => `\\${c}`)
    .replace(/^[ #]/, (c) => `\\${c}`)
    .replace(/ $/, '\\ ');
}

export class LdapDirectory implements DirectoryPort {
  private readonly dcs: DcConnections;
  private contexts?: Promise<{ base: string; config: string }>;

  constructor(config: LdapConfig) {
    this.dcs = new DcConnections(config);
  }

  close(): Promise<void> {
    return this.dcs.closeAll();
  }

  /** Naming contexts from the rootDSE of the seed DC (or whichever DC is asked first). */
  private namingContexts(dc: string): Promise<{ base: string; config: string }> {
    this.contexts ??= this.dcs
      .use(dc, 'read rootDSE', (c) =>
        c.search('', { scope: 'base', attributes: ['defaultNamingContext', 'configurationNamingContext'] }),
      )
      .then((r) => ({
        base: str(r.searchEntries[0], 'defaultNamingContext') ?? '',
        config: str(r.searchEntries[0], 'configurationNamingContext') ?? '',
      }))
      .catch((err: unknown) => {
        this.contexts = undefined;
        throw err;
      });
    return this.contexts;
  }

  private async find(dc: string, what: string, filter: Filter, attributes: string[]): Promise<Entry[]> {
    const { base } = await this.namingContexts(dc);
    return this.dcs.use(dc, what, async (c: Client) => {
      const r = await c.search(base, { scope: 'sub', filter, attributes, explicitBufferAttributes: BINARY });
      return r.searchEntries;
    });
  }

  private toRef(e: Entry): DirectoryObjectRef {
    return {
      objectGuid: guidToString(buf(e, 'objectGUID') ?? Buffer.alloc(16)),
      objectClass: classOf(e),
      samAccountName: str(e, 'sAMAccountName') ?? '',
      distinguishedName: e.dn,
    };
  }

  private async sidsToNames(dc: string, sids: string[]): Promise<string[]> {
    const names: string[] = [];
    for (const sid of sids) {
      const found = await this.find(dc, 'resolve a SID', eq('objectSid', sidToBuffer(sid)), ['sAMAccountName']);
      names.push(found[0] ? (str(found[0], 'sAMAccountName') ?? sid) : sid);
    }
    return names;
  }

  /** sAMAccountNames (`SERVER1$`, a group) → SIDs, as the cmdlet resolves ADPrincipals. */
  private async namesToSids(dc: string, names: string[]): Promise<string[]> {
    const sids: string[] = [];
    for (const name of names) {
      const found = await this.find(dc, `resolve ${name}`, eq('sAMAccountName', name), ['objectSid']);
      const sid = found[0] ? buf(found[0], 'objectSid') : null;
      if (!sid) throw new BackendError(FailureType.ObjectNotFound, `Cannot find an object with identity: '${name}'`);
      sids.push(sidToString(sid));
    }
    return sids;
  }

  private async toServiceAccount(dc: string, e: Entry): Promise<ServiceAccount> {
    const sd = buf(e, 'msDS-GroupMSAMembership');
    return {
      ...this.toRef(e),
      objectClass: GMSA_CLASS,
      name: str(e, 'name') ?? '',
      dnsHostName: str(e, 'dNSHostName') ?? '',
      description: str(e, 'description'),
      principals: sd ? await this.sidsToNames(dc, readGroupMsaMembership(sd)) : [],
      kerberosEncryptionTypes: bitsToEncryptionTypes(Number(str(e, 'msDS-SupportedEncryptionTypes') ?? 0)),
      managedPasswordIntervalInDays: Number(str(e, 'msDS-ManagedPasswordInterval') ?? 30),
    };
  }

  private async gmsaEntry(dc: string, filter: Filter): Promise<Entry | undefined> {
    return (await this.find(dc, 'read a gMSA', and(eq('objectClass', GMSA_CLASS), filter), GMSA_ATTRIBUTES))[0];
  }

  async getKdsRootKeys(dc: string): Promise<KdsRootKey[]> {
    const { config } = await this.namingContexts(dc);
    const base = `CN=Master Root Keys,CN=Group Key Distribution Service,CN=Services,${config}`;
    const entries = await this.dcs.use(dc, 'read KDS root keys', async (c) => {
      try {
        return (await c.search(base, { scope: 'one', attributes: ['cn', 'msKds-UseStartTime'] })).searchEntries;
      } catch (err) {
        if (err instanceof Error && err.constructor.name === 'NoSuchObjectError') return [];
        throw err;
      }
    });
    return entries
      .filter((e) => str(e, 'msKds-UseStartTime'))
      .map((e) => ({ keyId: str(e, 'cn') ?? e.dn, effectiveTime: fileTimeToIso(str(e, 'msKds-UseStartTime') ?? '0') }));
  }

  /** nTDSDSA objects under CN=Sites: one per DC, in its site's Servers container. */
  async listDomainControllers(): Promise<DomainController[]> {
    const dc = this.dcs.seedDc;
    const { config } = await this.namingContexts(dc);
    return this.dcs.use(dc, 'list domain controllers', async (c) => {
      const dsas = (
        await c.search(`CN=Sites,${config}`, {
          scope: 'sub',
          filter: eq('objectClass', 'nTDSDSA'),
          attributes: ['distinguishedName', 'msDS-isRODC'],
        })
      ).searchEntries;
      const result: DomainController[] = [];
      for (const dsa of dsas) {
        // CN=NTDS Settings,CN=<server>,CN=Servers,CN=<site>,CN=Sites,…
        const serverDn = dsa.dn
          .split(/,(?=CN=)/i)
          .slice(1)
          .join(',');
        const site = /^CN=[^,]+,CN=Servers,CN=([^,]+),CN=Sites,/i.exec(serverDn)?.[1] ?? 'unknown';
        const server = (await c.search(serverDn, { scope: 'base', attributes: ['dNSHostName'] })).searchEntries[0];
        const hostName = (server && str(server, 'dNSHostName'))?.toLowerCase();
        if (hostName) result.push({ hostName, site, writable: str(dsa, 'msDS-isRODC') !== 'TRUE' });
      }
      return result.sort((a, b) => a.hostName.localeCompare(b.hostName));
    });
  }

  async findAccountsNamed(dc: string, name: string): Promise<DirectoryObjectRef[]> {
    const found = await this.find(
      dc,
      `look up the name ${name}`,
      or(eq('sAMAccountName', name), eq('sAMAccountName', `${name}$`)),
      ACCOUNT_ATTRIBUTES,
    );
    return found.map((e) => this.toRef(e));
  }

  async getServiceAccount(dc: string, name: string): Promise<ServiceAccount | null> {
    const e = await this.gmsaEntry(dc, eq('sAMAccountName', `${name}$`));
    return e ? this.toServiceAccount(dc, e) : null;
  }

  private async getServiceAccountByGuid(dc: string, objectGuid: string): Promise<ServiceAccount | null> {
    const e = await this.gmsaEntry(dc, eq('objectGUID', guidToBuffer(objectGuid)));
    return e ? this.toServiceAccount(dc, e) : null;
  }

  async createServiceAccount(dc: string, spec: NewServiceAccount): Promise<ServiceAccount> {
    const sam = `${spec.name}$`;
    if (sam.length > MAX_SAM_LENGTH || !/^[A-Za-z0-9-]+$/.test(spec.name)) {
      throw new BackendError(
        FailureType.RequestInvalid,
        `The service account has a samAccountName attribute of '${sam}' which is too long or malformed; ` +
          `the samAccountName attribute must not be longer than ${MAX_SAM_LENGTH} characters`,
      );
    }
    // What New-ADServiceAccount checks before it writes: a usable KDS root key and a free name.
    if (!(await this.getKdsRootKeys(dc)).some((k) => kdsRootKeyUsable(k, Date.now()))) {
      throw new BackendError(FailureType.KdsRootKeyMissing, 'Key does not exist (0x8009000D): no usable KDS root key');
    }
    if ((await this.findAccountsNamed(dc, spec.name)).length > 0) {
      throw new BackendError(FailureType.GmsaNameConflict, `The specified account already exists: ${spec.name}`);
    }
    const sids = await this.namesToSids(dc, spec.principals);
    const { base } = await this.namingContexts(dc);
    const dn = `CN=${escapeRdnValue(spec.name)},CN=Managed Service Accounts,${base}`;
    const attributes = [
      new Attribute({ type: 'objectClass', values: [GMSA_CLASS] }),
      new Attribute({ type: 'sAMAccountName', values: [sam] }),
      new Attribute({ type: 'dNSHostName', values: [spec.dnsHostName] }),
      new Attribute({ type: 'userAccountControl', values: [UAC_WORKSTATION_TRUST_ACCOUNT] }),
      new Attribute({ type: 'msDS-ManagedPasswordInterval', values: [String(spec.managedPasswordIntervalInDays)] }),
      new Attribute({
        type: 'msDS-SupportedEncryptionTypes',
        values: [String(encryptionTypesToBits(spec.kerberosEncryptionTypes))],
      }),
      new Attribute({ type: 'msDS-GroupMSAMembership', values: [buildGroupMsaMembership(sids)] }),
      ...(spec.description ? [new Attribute({ type: 'description', values: [spec.description] })] : []),
    ];
    await this.dcs.use(dc, `create gMSA ${spec.name}`, (c) => c.add(dn, attributes));
    const created = await this.getServiceAccount(dc, spec.name);
    if (!created) throw new BackendError(FailureType.ObjectNotFound, `gMSA ${spec.name} not readable after creation`);
    return created;
  }

  async removeServiceAccount(dc: string, objectGuid: string): Promise<void> {
    const sa = await this.getServiceAccountByGuid(dc, objectGuid);
    if (!sa) throw new BackendError(FailureType.ObjectNotFound, `Cannot find an object with identity: '${objectGuid}'`);
    await this.dcs.use(dc, `remove gMSA ${sa.name}`, (c) => c.del(sa.distinguishedName));
  }

  async setServiceAccountPrincipals(dc: string, objectGuid: string, principals: string[]): Promise<ServiceAccount> {
    const sa = await this.getServiceAccountByGuid(dc, objectGuid);
    if (!sa) throw new BackendError(FailureType.ObjectNotFound, `Cannot find an object with identity: '${objectGuid}'`);
    const sd = buildGroupMsaMembership(await this.namesToSids(dc, principals));
    await this.dcs.use(dc, `set principals of ${sa.name}`, (c) =>
      c.modify(
        sa.distinguishedName,
        new Change({
          operation: 'replace',
          modification: new Attribute({ type: 'msDS-GroupMSAMembership', values: [sd] }),
        }),
      ),
    );
    const after = await this.getServiceAccountByGuid(dc, objectGuid);
    if (!after)
      throw new BackendError(FailureType.ObjectNotFound, `gMSA ${sa.name} vanished while its principals were set`);
    return after;
  }

  async getComputer(dc: string, hostName: string): Promise<ComputerAccount | null> {
    const e = (
      await this.find(
        dc,
        `find the computer ${hostName}`,
        and(eq('objectClass', 'computer'), eq('dNSHostName', hostName)),
        [...ACCOUNT_ATTRIBUTES, 'dNSHostName'],
      )
    )[0];
    if (!e) return null;
    return {
      ...this.toRef(e),
      objectClass: 'computer',
      dnsHostName: (str(e, 'dNSHostName') ?? hostName).toLowerCase(),
    };
  }

  private async groupDn(dc: string, group: string): Promise<string> {
    const e = (
      await this.find(dc, `find the group ${group}`, and(eq('objectClass', 'group'), eq('sAMAccountName', group)), [
        'cn',
      ])
    )[0];
    if (!e) throw new BackendError(FailureType.ObjectNotFound, `Cannot find an object with identity: '${group}'`);
    return e.dn;
  }

  private async accountDn(dc: string, sam: string): Promise<string> {
    const e = (await this.find(dc, `find ${sam}`, eq('sAMAccountName', sam), ['cn']))[0];
    if (!e) throw new BackendError(FailureType.ObjectNotFound, `Cannot find an object with identity: '${sam}'`);
    return e.dn;
  }

  async getGroupMembers(dc: string, group: string): Promise<string[]> {
    const dn = await this.groupDn(dc, group);
    const members = await this.find(dc, `list members of ${group}`, eq('memberOf', dn), ['sAMAccountName']);
    return members.map((m) => str(m, 'sAMAccountName') ?? m.dn).sort();
  }

  async addGroupMember(dc: string, group: string, member: string): Promise<void> {
    if ((await this.getGroupMembers(dc, group)).some((m) => m.toLowerCase() === member.toLowerCase())) return;
    const [groupDn, memberDn] = [await this.groupDn(dc, group), await this.accountDn(dc, member)];
    await this.dcs.use(dc, `add ${member} to ${group}`, (c) =>
      c.modify(
        groupDn,
        new Change({ operation: 'add', modification: new Attribute({ type: 'member', values: [memberDn] }) }),
      ),
    );
  }

  async removeGroupMember(dc: string, group: string, member: string): Promise<void> {
    if (!(await this.getGroupMembers(dc, group)).some((m) => m.toLowerCase() === member.toLowerCase())) return;
    const [groupDn, memberDn] = [await this.groupDn(dc, group), await this.accountDn(dc, member)];
    await this.dcs.use(dc, `remove ${member} from ${group}`, (c) =>
      c.modify(
        groupDn,
        new Change({ operation: 'delete', modification: new Attribute({ type: 'member', values: [memberDn] }) }),
      ),
    );
  }

  /**
   * Sync-ADObject is, on the wire, a write of the rootDSE operational attribute replicateSingleObject on the
   * destination: `<source DSA's NTDS Settings DN>:<object DN>`.
   */
  async syncObject(sourceDc: string, destinationDc: string, objectGuid: string): Promise<void> {
    const sa = await this.getServiceAccountByGuid(sourceDc, objectGuid);
    if (!sa) throw new BackendError(FailureType.ObjectNotFound, `Cannot find an object with identity: '${objectGuid}'`);
    const dsa = await this.dcs.use(sourceDc, 'read dsServiceName', (c) =>
      c.search('', { scope: 'base', attributes: ['dsServiceName'] }),
    );
    const source = str(dsa.searchEntries[0], 'dsServiceName') ?? '';
    await this.dcs.use(destinationDc, `replicate ${sa.name} from ${sourceDc}`, (c) =>
      c.modify(
        '',
        new Change({
          operation: 'replace',
          modification: new Attribute({ type: 'replicateSingleObject', values: [`${source}:${sa.distinguishedName}`] }),
        }),
      ),
    );
  }
}
