/**
 * Proves the Samba test forest fixture: real DCs that answer LDAPS, replicate, can be stopped and started, and leave
 * the machine as they found it. Skipped (with the reason printed) only where Samba cannot run.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Client } from 'ldapts';
import {
  SEED_COMPUTERS,
  SEED_GROUPS,
  sambaAvailable,
  startSambaForest,
  type SambaDc,
  type SambaForest,
} from '../../samba/forest';

const availability = sambaAvailable();
if (!availability.ok) console.warn(`Samba forest tests skipped: ${availability.reason}`);
const describeSamba = availability.ok ? describe : describe.skip;

jest.setTimeout(180_000);

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function loAddresses(): string[] {
  const out = execFileSync('ip', ['-o', '-4', 'addr', 'show', 'dev', 'lo'], { encoding: 'utf8' });
  return [...out.matchAll(/inet (\d+\.\d+\.\d+\.\d+)\//g)].map((m) => m[1]);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describeSamba('samba test forest', () => {
  let forest: SambaForest;
  let hostsBefore: Buffer;
  let loBefore: string[];
  const stamp = Date.now().toString(36);

  const connect = (dc: SambaDc) =>
    new Client({
      url: dc.ldapsUrl,
      tlsOptions: { ca: [readFileSync(forest.caFile)] },
      connectTimeout: 5000,
      timeout: 30_000,
    });

  async function withBind<T>(dc: SambaDc, fn: (c: Client) => Promise<T>): Promise<T> {
    const client = connect(dc);
    try {
      await client.bind(forest.adminUser, forest.adminPassword);
      return await fn(client);
    } finally {
      await client.unbind().catch(() => undefined);
    }
  }

  const findBySam = (dc: SambaDc, sam: string) =>
    withBind(dc, async (c) => {
      const res = await c.search(forest.baseDn, { filter: `(sAMAccountName=${sam})`, attributes: ['dn'] });
      return res.searchEntries.length;
    });

  const addComputer = (dc: SambaDc, name: string) =>
    withBind(dc, (c) =>
      c.add(`CN=${name},CN=Computers,${forest.baseDn}`, {
        objectClass: ['top', 'person', 'organizationalPerson', 'user', 'computer'],
        sAMAccountName: `${name}$`,
        userAccountControl: '4096',
      }),
    );

  async function waitUntilPresent(dc: SambaDc, sam: string, timeoutMs: number): Promise<number> {
    const t0 = Date.now();
    while (Date.now() - t0 < timeoutMs) {
      if ((await findBySam(dc, sam)) === 1) return Date.now() - t0;
      await sleep(250);
    }
    throw new Error(`${sam} did not reach ${dc.name} within ${timeoutMs} ms`);
  }

  beforeAll(async () => {
    hostsBefore = readFileSync('/etc/hosts');
    loBefore = loAddresses();
    forest = await startSambaForest({ log: (line) => process.stderr.write(`[samba] ${line}\n`) });
  }, 600_000);

  afterAll(async () => {
    await forest?.stop();
  }, 120_000);

  it('describes the forest', () => {
    expect(forest.dcs.map((d) => d.name)).toEqual(['dc1', 'dc2', 'dc3']);
    expect(forest.dcs[2].site).toBe('Branch');
    // 127.0.0.11 unless another forest (a parallel jest worker) holds that slot.
    const dc1 = forest.dcs[0];
    expect(dc1.address).toMatch(/^127\.0\.\d+\.11$/);
    expect(dc1).toMatchObject({
      hostName: 'dc1.lab.local',
      site: 'Default-First-Site-Name',
      ldapsUrl: `ldaps://${dc1.address}:636`,
    });
  });

  it('every DC answers an LDAPS simple bind as Administrator, validated with the CA', async () => {
    for (const dc of forest.dcs) {
      const who = await withBind(dc, (c) => c.exop('1.3.6.1.4.1.4203.1.11.3'));
      expect(who.value).toMatch(/LAB\\Administrator/i);
    }
  });

  it('every DC holds the seeded KDS root key, computers and groups', async () => {
    for (const dc of forest.dcs) {
      await withBind(dc, async (c) => {
        const keys = await c.search(
          `CN=Master Root Keys,CN=Group Key Distribution Service,CN=Services,CN=Configuration,${forest.baseDn}`,
          {
            scope: 'one',
            attributes: ['msKds-UseStartTime'],
          },
        );
        expect(keys.searchEntries.length).toBeGreaterThan(0);
        // Usable now: AD (and the 10-hour rule) want a key whose use start time is more than 10 h ago.
        const ntTime = BigInt(String(keys.searchEntries[0]['msKds-UseStartTime']));
        const startMs = Number(ntTime / 10_000n - 11_644_473_600_000n);
        expect(Date.now() - startMs).toBeGreaterThan(10 * 3600 * 1000);
        for (const [i, name] of SEED_COMPUTERS.entries()) {
          const res = await c.search(forest.baseDn, {
            filter: `(sAMAccountName=${name}$)`,
            attributes: ['dNSHostName'],
          });
          expect(res.searchEntries[0]?.dNSHostName).toBe(`server${i + 1}.lab.local`);
        }
        for (const g of SEED_GROUPS) {
          const res = await c.search(forest.baseDn, { filter: `(&(objectClass=group)(sAMAccountName=${g}))` });
          expect(res.searchEntries).toHaveLength(1);
        }
      });
    }
  });

  it('dc3 is a DC of the Branch site, dc1 and dc2 of Default-First-Site-Name', async () => {
    await withBind(forest.dcs[0], async (c) => {
      for (const dc of forest.dcs) {
        const res = await c.search(`CN=Sites,CN=Configuration,${forest.baseDn}`, {
          filter: `(&(objectClass=server)(cn=${dc.name.toUpperCase()}))`,
          attributes: ['dn'],
        });
        expect(res.searchEntries.map((e) => e.dn)).toEqual([
          `CN=${dc.name.toUpperCase()},CN=Servers,CN=${dc.site},CN=Sites,CN=Configuration,${forest.baseDn}`,
        ]);
      }
    });
  });

  it('an object created on dc1 replicates to the other DCs by itself', async () => {
    const name = `REPL${stamp}`.slice(0, 15).toUpperCase();
    await addComputer(forest.dcs[0], name);
    const dc2Ms = await waitUntilPresent(forest.dcs[1], `${name}$`, 60_000);
    process.stderr.write(`[samba] ${name} reached dc2 after ${dc2Ms} ms\n`);
    for (const dc of forest.dcs.slice(2)) {
      const ms = await waitUntilPresent(dc, `${name}$`, 120_000);
      process.stderr.write(`[samba] ${name} reached ${dc.name} (site ${dc.site}) after ${ms} ms\n`);
    }
  });

  it('replicate() forces replication at once', async () => {
    const name = `FORCE${stamp}`.slice(0, 15).toUpperCase();
    await addComputer(forest.dcs[0], name);
    const target = forest.dcs[forest.dcs.length - 1];
    await forest.replicate('dc1', target.name);
    expect(await findBySam(target, `${name}$`)).toBe(1);
  });

  it('a stopped DC does not answer, and answers again after startDc', async () => {
    const dc = forest.dcs[1];
    await forest.stopDc(dc.name);
    await expect(withBind(dc, () => Promise.resolve())).rejects.toThrow();
    await forest.startDc(dc.name);
    expect(await findBySam(dc, 'Administrator')).toBe(1);
  });

  it('stop() leaves no samba process, no extra lo address and /etc/hosts unchanged', async () => {
    const pids = forest.processIds();
    expect(pids.length).toBeGreaterThan(0);
    await forest.stop();
    expect(pids.filter(alive)).toEqual([]);
    // Only this forest's addresses: a parallel worker's forest may come and go meanwhile.
    const ours = forest.dcs.map((d) => d.address).filter((a) => !loBefore.includes(a));
    expect(loAddresses().filter((a) => ours.includes(a))).toEqual([]);
    expect(readFileSync('/etc/hosts').equals(hostsBefore)).toBe(true);
    await expect(withBind(forest.dcs[0], () => Promise.resolve())).rejects.toThrow();
  });
});
