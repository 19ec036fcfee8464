/**
 * One contract for the directory half of the backend interface. The lab runs it, and so does the ldap backend
 * against real Samba AD DCs: the lab is held to what a real directory does. Where Windows AD and Samba differ,
 * the lab follows Windows and the difference is written down (README, "The lab and real directories").
 */
import { randomBytes } from 'node:crypto';
import { BackendError } from '../../backends/errors';
import type { DirectoryPort } from '../../backends/ports';
import { kdsRootKeyUsable } from '../../runbook/kds';

export interface DirectoryUnderTest {
  directory: DirectoryPort;
  /** Where the runbook writes. */
  pinnedDc: string;
  /** A DC that gets the writes by replication. */
  otherDc: string;
  /** How long replication to otherDc may take here. */
  replicationBudgetMs: number;
}

const uniqueName = () => `ct-${randomBytes(4).toString('hex')}`; // 11 characters

async function failureType(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof BackendError) return err.type;
    throw err;
  }
  throw new Error('the call succeeded');
}

async function eventually<T>(budgetMs: number, probe: () => Promise<T | null | undefined>): Promise<T> {
  const deadline = Date.now() + budgetMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`not within ${budgetMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

export function directoryContract(setup: () => DirectoryUnderTest): void {
  const spec = (name: string, principals: string[] = ['SERVER1$']) => ({
    name,
    dnsHostName: `${name}.lab.local`,
    description: `contract test [gmsa-runbooks:contract/${name}]`,
    principals,
    kerberosEncryptionTypes: ['AES128', 'AES256'],
    managedPasswordIntervalInDays: 30,
  });
  const created: string[] = [];
  const create = async (name: string, principals?: string[]) => {
    const { directory, pinnedDc } = setup();
    const sa = await directory.createServiceAccount(pinnedDc, spec(name, principals));
    created.push(sa.objectGuid);
    return sa;
  };

  afterAll(async () => {
    const { directory, pinnedDc } = setup();
    for (const guid of created) await directory.removeServiceAccount(pinnedDc, guid).catch(() => undefined);
  });

  test('lists its domain controllers with their sites', async () => {
    const { directory, pinnedDc, otherDc } = setup();
    const dcs = await directory.listDomainControllers();
    const names = dcs.map((d) => d.hostName);
    expect(names).toEqual(expect.arrayContaining([pinnedDc, otherDc]));
    for (const dc of dcs) {
      expect(dc.site).toMatch(/\S/);
      expect(dc.writable).toBe(true);
    }
  });

  test('has a KDS root key that is usable (effective more than 10 h ago)', async () => {
    const { directory, pinnedDc } = setup();
    const keys = await directory.getKdsRootKeys(pinnedDc);
    expect(keys.some((k) => kdsRootKeyUsable(k, Date.now()))).toBe(true);
  });

  test('finds computer accounts by DNS host name, and nothing for an unknown host', async () => {
    const { directory, pinnedDc } = setup();
    expect(await directory.getComputer(pinnedDc, 'server1.lab.local')).toMatchObject({
      objectClass: 'computer',
      samAccountName: 'SERVER1$',
      dnsHostName: 'server1.lab.local',
    });
    expect(await directory.getComputer(pinnedDc, 'nosuchhost.lab.local')).toBeNull();
  });

  test('finds what holds a name as `name` or `name$` (a computer blocks its name for a gMSA)', async () => {
    const { directory, pinnedDc } = setup();
    const found = await directory.findAccountsNamed(pinnedDc, 'server2');
    expect(found.map((o) => [o.objectClass, o.samAccountName.toUpperCase()])).toEqual([['computer', 'SERVER2$']]);
    expect(await directory.findAccountsNamed(pinnedDc, uniqueName())).toEqual([]);
  });

  test('creates a gMSA on the pinned DC with what New-ADServiceAccount sets, and reads it back', async () => {
    const { directory, pinnedDc } = setup();
    const name = uniqueName();
    const sa = await create(name, ['SERVER1$', 'gMSA-Remoting-Hosts']);
    expect(sa).toMatchObject({
      objectClass: 'msDS-GroupManagedServiceAccount',
      samAccountName: `${name}$`,
      name,
      dnsHostName: `${name}.lab.local`,
      description: `contract test [gmsa-runbooks:contract/${name}]`,
      kerberosEncryptionTypes: ['AES128', 'AES256'],
      managedPasswordIntervalInDays: 30,
    });
    expect(sa.principals.map((p) => p.toLowerCase()).sort()).toEqual(['gmsa-remoting-hosts', 'server1$']);
    expect(sa.objectGuid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(await directory.getServiceAccount(pinnedDc, name)).toEqual(sa);
  });

  test('refuses a duplicate gMSA and a name a computer holds: GmsaNameConflict', async () => {
    const { directory, pinnedDc } = setup();
    const name = uniqueName();
    await create(name);
    expect(await failureType(directory.createServiceAccount(pinnedDc, spec(name)))).toBe('GmsaNameConflict');
    expect(await failureType(directory.createServiceAccount(pinnedDc, spec('SERVER2')))).toBe('GmsaNameConflict');
  });

  test('refuses a sAMAccountName over 15 characters with the $ (the cmdlet rule): RequestInvalid', async () => {
    const { directory, pinnedDc } = setup();
    expect(await failureType(directory.createServiceAccount(pinnedDc, spec('ct-15-chars-xyz')))).toBe('RequestInvalid');
  });

  test('refuses a principal that does not exist: ObjectNotFound', async () => {
    const { directory, pinnedDc } = setup();
    expect(await failureType(directory.createServiceAccount(pinnedDc, spec(uniqueName(), ['NOSUCH$'])))).toBe(
      'ObjectNotFound',
    );
  });

  test('replaces the principals list; read-modify-write keeps what was there', async () => {
    const { directory, pinnedDc } = setup();
    const sa = await create(uniqueName(), ['SERVER4$']);
    const kept = await directory.setServiceAccountPrincipals(pinnedDc, sa.objectGuid, [...sa.principals, 'SERVER1$']);
    expect(kept.principals.map((p) => p.toUpperCase()).sort()).toEqual(['SERVER1$', 'SERVER4$']);
    const replaced = await directory.setServiceAccountPrincipals(pinnedDc, sa.objectGuid, ['SERVER2$']);
    expect(replaced.principals.map((p) => p.toUpperCase())).toEqual(['SERVER2$']);
  });

  test('adds and removes group members idempotently; an unknown group is ObjectNotFound', async () => {
    const { directory, pinnedDc } = setup();
    const group = 'gMSA-Remoting-Hosts';
    await directory.addGroupMember(pinnedDc, group, 'SERVER3$');
    await directory.addGroupMember(pinnedDc, group, 'SERVER3$');
    expect((await directory.getGroupMembers(pinnedDc, group)).map((m) => m.toUpperCase())).toContain('SERVER3$');
    await directory.removeGroupMember(pinnedDc, group, 'SERVER3$');
    await directory.removeGroupMember(pinnedDc, group, 'SERVER3$');
    expect((await directory.getGroupMembers(pinnedDc, group)).map((m) => m.toUpperCase())).not.toContain('SERVER3$');
    expect(await failureType(directory.getGroupMembers(pinnedDc, 'No-Such-Group'))).toBe('ObjectNotFound');
  });

  test('removes a gMSA by objectGUID; removing it again is ObjectNotFound', async () => {
    const { directory, pinnedDc } = setup();
    const name = uniqueName();
    const sa = await directory.createServiceAccount(pinnedDc, spec(name));
    await directory.removeServiceAccount(pinnedDc, sa.objectGuid);
    expect(await directory.getServiceAccount(pinnedDc, name)).toBeNull();
    expect(await failureType(directory.removeServiceAccount(pinnedDc, sa.objectGuid))).toBe('ObjectNotFound');
  });

  test('a write on the pinned DC reaches the other DC by replication, with the same objectGUID', async () => {
    const { directory, otherDc, replicationBudgetMs } = setup();
    const name = uniqueName();
    const sa = await create(name);
    const replica = await eventually(replicationBudgetMs, () => directory.getServiceAccount(otherDc, name));
    expect(replica.objectGuid).toBe(sa.objectGuid);
    expect(replica.principals.map((p) => p.toUpperCase())).toEqual(['SERVER1$']);
  });

  test('a DC that does not answer is ServerDown', async () => {
    const { directory } = setup();
    expect(await failureType(directory.getServiceAccount('dc9.lab.local', 'anything'))).toBe('ServerDown');
  });
}
