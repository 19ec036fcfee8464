/**
 * A real test forest of Samba AD domain controllers that really replicate, on this machine, for tests that want a
 * directory with actual AD semantics (LDAPS, DRS replication, sites, a KDS root key) rather than the lab fake.
 *
 * What it touches on the machine, and how each is put back:
 * - loopback addresses 127.0.0.11.. (Samba binds only to an address an interface carries): added only if absent,
 *   and only the ones it added are removed.
 * - samba processes: each DC runs in its own process group, stopped by group id.
 * - name resolution: DRS needs `<NTDS Settings GUID>._msdcs.lab.local` and `dcN.lab.local` to resolve. Instead of
 *   editing /etc/hosts, every samba and samba-tool process runs in a private mount namespace (`unshare --mount`)
 *   where a hosts file of the forest's own is bind-mounted over /etc/hosts. The machine's /etc/hosts is never
 *   written, and the bind mount vanishes with the last process of the namespace, even after a crash.
 * - Kerberos: a krb5.conf of the forest's own (KRB5_CONFIG) naming every DC as a KDC by address; /etc/krb5.conf is
 *   not touched. KRB5CCNAME points into the forest directory so root's default ccache is not touched either.
 * - TLS: a CA made here signs each DC's LDAPS certificate with its DNS name and its address as subject alternative
 *   names, so `ldaps://127.0.0.11:636` validates with `caFile` alone.
 * Cleanup runs from stop(), from process exit and signal handlers, and from a detached watchdog process that tears the
 * forest down if the owning process dies without doing so (SIGKILL, OOM). Each forest claims a slot (a state file in
 * $TMPDIR/gmsa-samba-forest-slots, recording what it added and started); set-up tears down a slot whose owner died
 * before claiming it, and never touches one whose owner is alive (it takes the next slot: other addresses).
 *
 * Names resolve only inside the forest's namespaces: from the test process use `address`/`ldapsUrl` (the certificate
 * carries the address), or connect to the address with TLS `servername: hostName`.
 */
import { execFile, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tls from 'node:tls';
import { Client } from 'ldapts';

export interface SambaDc {
  name: string;
  hostName: string;
  address: string;
  site: string;
  ldapsUrl: string;
}

export interface SambaForest {
  realm: 'LAB.LOCAL';
  netbios: 'LAB';
  dnsDomain: 'lab.local';
  baseDn: 'DC=lab,DC=local';
  /** UPN form, usable for an LDAP simple bind over LDAPS. */
  adminUser: 'Administrator@lab.local';
  adminPassword: string;
  /** PEM of the CA that signed every DC's LDAPS certificate (names and addresses are in the certificates). */
  caFile: string;
  dcs: SambaDc[];
  /** Where the forest's files live (removed by stop()). */
  baseDir: string;
  /** Milliseconds set-up took. */
  setupMs: number;
  stopDc(name: string): Promise<void>;
  startDc(name: string): Promise<void>;
  /** Forces inbound replication of the domain and configuration partitions on `to` from `from`. */
  replicate(from: string, to: string): Promise<void>;
  /** Process ids of the forest's samba processes now running (for tests that check teardown). */
  processIds(): number[];
  /** Everything torn down and the machine restored. Idempotent. */
  stop(): Promise<void>;
}

export interface SambaForestOptions {
  /** 2 or 3 (default 3: the third DC in a second site, Branch). */
  dcs?: number;
  /** Directory for the forest's files; anything in it from an earlier run is removed. */
  baseDir?: string;
  log?: (line: string) => void;
  /**
   * Tear down synchronously on SIGINT/SIGTERM/SIGHUP and re-raise (default true). A CLI that handles signals itself
   * and calls stop() passes false; process exit and the watchdog still clean up.
   */
  handleSignals?: boolean;
}

const REALM = 'LAB.LOCAL';
const NETBIOS = 'LAB';
const DNS_DOMAIN = 'lab.local';
const BASE_DN = 'DC=lab,DC=local';
const CONFIG_DN = `CN=Configuration,${BASE_DN}`;
const ADMIN_UPN = 'Administrator@lab.local';
const DEFAULT_SITE = 'Default-First-Site-Name';
const BRANCH_SITE = 'Branch';
const KDS_CONTAINER = `CN=Master Root Keys,CN=Group Key Distribution Service,CN=Services,${CONFIG_DN}`;
export const SEED_COMPUTERS = ['SERVER1', 'SERVER2', 'SERVER3', 'SERVER4'];
export const SEED_GROUPS = ['JEA-Operators', 'gMSA-Remoting-Hosts'];

/**
 * Forests can run side by side (jest runs test files in parallel workers): each claims a slot, and slot n uses the
 * addresses 127.0.n.11-13 (slot 0: 127.0.0.11-13) and, unless told otherwise, the directory gmsa-samba-forest[-n].
 */
const MAX_SLOTS = 10;
const dcPlan = (slot: number) => [
  { name: 'dc1', address: `127.0.${slot}.11`, site: DEFAULT_SITE },
  { name: 'dc2', address: `127.0.${slot}.12`, site: DEFAULT_SITE },
  { name: 'dc3', address: `127.0.${slot}.13`, site: BRANCH_SITE },
];
/** Where each slot's state lives: created exclusively (the claim), removed by teardown (the release). */
const slotsDir = () => join(tmpdir(), 'gmsa-samba-forest-slots');
const defaultBaseDir = (slot: number) => join(tmpdir(), slot === 0 ? 'gmsa-samba-forest' : `gmsa-samba-forest-${slot}`);

/**
 * Runs argv[0] with the hosts file "$1" bind-mounted over /etc/hosts in a new private mount namespace. A fixed script
 * with positional parameters: no value is ever interpolated into shell text.
 */
const NS_SCRIPT = 'mount --bind "$1" /etc/hosts && shift && exec "$@"';

/**
 * The teardown that must also work when this process is gone, as a plain script run by `node -e`:
 * `now STATE` tears down at once; `watch STATE` waits for the owner recorded in STATE to die first (and quits
 * quietly if the state file disappears, which is what a normal stop() does). One implementation serves the exit
 * handler, the leftover cleanup at set-up, `samba-main down` and the watchdog. Removing the state file last is what
 * releases the slot.
 */
const REAPER_JS = String.raw`
const fs = require('fs');
const { execFileSync } = require('child_process');
const [mode, stateFile] = process.argv.slice(1);
function stat(pid) {
  try {
    const s = fs.readFileSync('/proc/' + pid + '/stat', 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return { pgrp: Number(f[2]), start: f[19] };
  } catch { return undefined; }
}
function exeIsSamba(pid) {
  try { return /\/samba$/.test(fs.readlinkSync('/proc/' + pid + '/exe')); } catch { return false; }
}
function teardown() {
  let st;
  try { st = JSON.parse(fs.readFileSync(stateFile, 'utf8')); } catch { return; }
  const groups = new Map((st.processes || []).map((p) => [p.pgid, p]));
  if (groups.size > 0) {
    for (const name of fs.readdirSync('/proc')) {
      if (!/^\d+$/.test(name)) continue;
      const pid = Number(name);
      const s = stat(pid);
      if (!s || !groups.has(s.pgrp)) continue;
      const leader = groups.get(s.pgrp);
      // By id only, and only a process that is provably ours: the recorded leader (same start time) or a samba
      // process in its group.
      if ((pid === leader.pid && s.start === leader.start) || exeIsSamba(pid)) {
        try { process.kill(pid, 'SIGKILL'); } catch {}
      }
    }
  }
  for (const addr of st.addedAddresses || []) {
    try { execFileSync('ip', ['addr', 'del', addr + '/32', 'dev', 'lo'], { stdio: 'ignore' }); } catch {}
  }
  if (st.removeDir && st.baseDir) {
    try { fs.rmSync(st.baseDir, { recursive: true, force: true }); } catch {}
  }
  try { fs.rmSync(stateFile, { force: true }); } catch {}
  // The slots directory goes too once empty (a claimer that loses this race re-creates it).
  try { fs.rmdirSync(require('path').dirname(stateFile)); } catch {}
}
if (mode === 'watch') {
  let owner;
  try { owner = JSON.parse(fs.readFileSync(stateFile, 'utf8')); } catch { process.exit(0); }
  const timer = setInterval(() => {
    if (!fs.existsSync(stateFile)) { clearInterval(timer); return; }
    const s = stat(owner.ownerPid);
    if (!s || s.start !== owner.ownerStart) { clearInterval(timer); teardown(); }
  }, 1000);
} else {
  teardown();
}
`;

interface ProcessRecord {
  name: string;
  pid: number;
  pgid: number;
  start: string;
}

interface ForestState {
  ownerPid: number;
  /** The owner's start time (/proc/PID/stat field 22): a pid alone may have been reused. */
  ownerStart: string;
  slot: number;
  baseDir: string;
  removeDir: boolean;
  addedAddresses: string[];
  processes: ProcessRecord[];
}

export function sambaAvailable(): { ok: boolean; reason?: string } {
  if (process.platform !== 'linux') return { ok: false, reason: `needs Linux (this is ${process.platform})` };
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) {
    return { ok: false, reason: 'needs root (loopback addresses, mount namespaces)' };
  }
  for (const tool of ['samba', 'samba-tool', 'ip', 'unshare', 'openssl']) {
    if (!onPath(tool)) return { ok: false, reason: `${tool} not found on PATH (run .ci/samba-install)` };
  }
  return { ok: true };
}

function onPath(tool: string): boolean {
  const dirs = (process.env.PATH ?? '').split(':').concat(['/usr/sbin', '/sbin']);
  return dirs.some((dir) => dir !== '' && existsSync(join(dir, tool)));
}

function run(
  cmd: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(
      cmd,
      args,
      { env: opts.env ?? process.env, timeout: opts.timeoutMs ?? 120_000, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err) {
          const tail = `${stderr}\n${stdout}`.trim().split('\n').slice(-15).join('\n');
          reject(new Error(`${cmd} ${args.slice(0, 6).join(' ')} failed: ${err.message}\n${tail}`));
        } else {
          resolve({ stdout, stderr });
        }
      },
    );
  });
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function procStat(pid: number): { pgrp: number; start: string } | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return { pgrp: Number(f[2]), start: f[19] };
  } catch {
    return undefined;
  }
}

function pidsInGroup(pgid: number): number[] {
  const pids: number[] = [];
  for (const name of readdirSafe('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    if (procStat(Number(name))?.pgrp === pgid) pids.push(Number(name));
  }
  return pids;
}

function readdirSafe(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function loAddresses(): string[] {
  const out = execFileSync('ip', ['-o', '-4', 'addr', 'show', 'dev', 'lo'], { encoding: 'utf8' });
  return [...out.matchAll(/inet (\d+\.\d+\.\d+\.\d+)\//g)].map((m) => m[1]);
}

/** objectGUID bytes → the string form used in `<guid>._msdcs.<forest>` (first three fields little-endian). */
function guidString(b: Buffer): string {
  const hex = (bytes: number[]) => bytes.map((i) => b[i].toString(16).padStart(2, '0')).join('');
  return [hex([3, 2, 1, 0]), hex([5, 4]), hex([7, 6]), hex([8, 9]), hex([10, 11, 12, 13, 14, 15])].join('-');
}

function ldapTime(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return (
    `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}` +
    `${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}.0Z`
  );
}

/** Tears down whatever the state file describes, synchronously (exit handlers, leftovers of a crashed run). */
function teardownFromStateSync(stateFile: string): void {
  if (!existsSync(stateFile)) return;
  execFileSync(process.execPath, ['-e', REAPER_JS, 'now', stateFile], { stdio: 'ignore', timeout: 30_000 });
}

function readState(stateFile: string): ForestState | undefined {
  try {
    return JSON.parse(readFileSync(stateFile, 'utf8')) as ForestState;
  } catch {
    return undefined;
  }
}

function ownerAlive(st: ForestState): boolean {
  return procStat(st.ownerPid)?.start === st.ownerStart;
}

/** The forests whose state is on this machine: running ones and leftovers of crashed runs. */
export function listForests(): { slot: number; baseDir: string; ownerPid: number; running: boolean }[] {
  return readdirSafe(slotsDir())
    .filter((f) => /^\d+\.json$/.test(f))
    .flatMap((f) => {
      const st = readState(join(slotsDir(), f));
      return st ? [{ slot: st.slot, baseDir: st.baseDir, ownerPid: st.ownerPid, running: ownerAlive(st) }] : [];
    });
}

/** Tears down a forest whose owner is gone (processes, addresses, files). False if there was none in that slot. */
export function teardownLeftovers(slot: number): boolean {
  const stateFile = join(slotsDir(), `${slot}.json`);
  const st = readState(stateFile);
  if (!st) return false;
  if (ownerAlive(st)) throw new Error(`the forest in slot ${slot} is still owned by running process ${st.ownerPid}`);
  teardownFromStateSync(stateFile);
  return true;
}

/**
 * Claims the first free slot by creating its state file exclusively; a slot whose owner died is torn down and then
 * claimed. (Two processes taking over the same dead slot at the same instant could race; the content check before
 * unlinking narrows that to a few microseconds, which a test fixture accepts.)
 */
function claimSlot(initial: (slot: number) => ForestState, log: (line: string) => void): ForestState {
  mkdirSync(slotsDir(), { recursive: true, mode: 0o700 });
  for (let slot = 0; slot < MAX_SLOTS; slot++) {
    const file = join(slotsDir(), `${slot}.json`);
    for (let attempt = 0; attempt < 2; attempt++) {
      const st = initial(slot);
      try {
        writeFileSync(file, JSON.stringify(st, null, 2), { flag: 'wx' });
        return st;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') {
          // A teardown removed the (then empty) slots directory meanwhile.
          mkdirSync(slotsDir(), { recursive: true, mode: 0o700 });
          attempt--;
          continue;
        }
        if (code !== 'EEXIST') throw err;
      }
      const raw = readFileSafe(file);
      const old = raw === undefined ? undefined : readState(file);
      if (old && ownerAlive(old)) break; // in use: try the next slot
      if (old) {
        log(`removing leftovers of an earlier run (slot ${slot}, pid ${old.ownerPid}, ${old.baseDir})`);
        teardownFromStateSync(file);
      }
      if (readFileSafe(file) === raw) rmSync(file, { force: true });
    }
  }
  throw new Error(`all ${MAX_SLOTS} samba forest slots are in use (see ${slotsDir()})`);
}

function readFileSafe(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

export async function startSambaForest(opts: SambaForestOptions = {}): Promise<SambaForest> {
  const started = Date.now();
  const log = opts.log ?? (() => undefined);
  const avail = sambaAvailable();
  if (!avail.ok) throw new Error(`Samba forest unavailable: ${avail.reason ?? 'unknown reason'}`);
  const dcCount = opts.dcs ?? 3;
  if (dcCount !== 2 && dcCount !== 3) throw new Error(`dcs must be 2 or 3, not ${dcCount}`);

  const ownerStart = procStat(process.pid)?.start ?? '';
  const state = claimSlot(
    (slot) => ({
      ownerPid: process.pid,
      ownerStart,
      slot,
      baseDir: opts.baseDir ?? defaultBaseDir(slot),
      // Nothing exists yet: the directory is only ours to remove once we know we created it (below).
      removeDir: false,
      addedAddresses: [],
      processes: [],
    }),
    log,
  );
  const { slot, baseDir } = state;
  const stateFile = join(slotsDir(), `${slot}.json`);
  const saveState = () => writeFileSync(stateFile, JSON.stringify(state, null, 2));
  // Never wipe a directory that is not a forest's: a non-empty one is someone else's. (A crashed run's directory
  // was removed with its leftovers when the slot was claimed.)
  if (existsSync(baseDir) && readdirSync(baseDir).length > 0) {
    rmSync(stateFile, { force: true });
    throw new Error(`${baseDir} is not empty: choose another baseDir`);
  }
  mkdirSync(baseDir, { recursive: true, mode: 0o700 });
  state.removeDir = true;
  saveState();

  // The watchdog: detached, so it outlives a SIGKILLed owner and then tears the forest down.
  const reaper = spawn(process.execPath, ['-e', REAPER_JS, 'watch', stateFile], { detached: true, stdio: 'ignore' });
  reaper.unref();

  let stopped = false;
  const onExit = () => {
    if (stopped) return;
    stopped = true;
    try {
      teardownFromStateSync(stateFile);
    } catch {
      // exit path: nothing left to report to
    }
    // The watchdog would find the state gone and quit; ending it now keeps the exit tidy.
    reaper.kill('SIGTERM');
  };
  const onSignal = (signal: NodeJS.Signals) => {
    onExit();
    removeHandlers();
    // Re-raise so the default action (or another handler) still ends the process as it would have.
    if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
  };
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  const removeHandlers = () => {
    process.removeListener('exit', onExit);
    for (const s of signals) process.removeListener(s, onSignal);
  };
  process.on('exit', onExit);
  if (opts.handleSignals ?? true) for (const s of signals) process.on(s, onSignal);

  const adminPassword = `Lab-${randomBytes(9).toString('base64url')}-7x`;
  const plan = dcPlan(slot).slice(0, dcCount);
  const caFile = join(baseDir, 'ca.pem');
  const hostsFile = join(baseDir, 'hosts');
  const krb5File = join(baseDir, 'krb5.conf');
  const baseHosts = readFileSync('/etc/hosts', 'utf8');
  const guids = new Map<string, string>();
  const children = new Map<string, ProcessRecord>();

  const env: NodeJS.ProcessEnv = {
    ...process.env,
    KRB5_CONFIG: krb5File,
    KRB5CCNAME: `FILE:${join(baseDir, 'krb5cc')}`,
    // samba-tool reads the password from PASSWD, which keeps it out of the process list.
    PASSWD: adminPassword,
  };
  const dcDir = (name: string) => join(baseDir, name);
  const confOf = (name: string) => join(dcDir(name), 'etc', 'smb.conf');

  const writeHosts = () => {
    // Rewritten in place (same inode): the bind mounts in running namespaces see every update.
    const lines = plan.map((dc) => {
      const names = [`${dc.name}.${DNS_DOMAIN}`, dc.name];
      const guid = guids.get(dc.name);
      if (guid) names.push(`${guid}._msdcs.${DNS_DOMAIN}`);
      if (dc.name === 'dc1') names.push(DNS_DOMAIN);
      return `${dc.address}\t${names.join(' ')}`;
    });
    writeFileSync(
      hostsFile,
      `${baseHosts.replace(/\n?$/, '\n')}# gmsa-runbooks samba test forest\n${lines.join('\n')}\n`,
    );
  };

  const inNs = (cmd: string, args: string[]) =>
    run(
      'unshare',
      ['--mount', '--propagation', 'private', '--', '/bin/sh', '-c', NS_SCRIPT, 'samba-ns', hostsFile, cmd, ...args],
      {
        env,
      },
    );

  const ldap = (dc: { address: string }) =>
    new Client({
      url: `ldaps://${dc.address}:636`,
      tlsOptions: { ca: [readFileSync(caFile)] },
      connectTimeout: 5000,
      timeout: 30_000,
    });

  const ldapsReady = (address: string) =>
    new Promise<boolean>((resolve) => {
      const sock = tls.connect({ host: address, port: 636, ca: [readFileSync(caFile)] }, () => {
        sock.end();
        resolve(true);
      });
      sock.setTimeout(2000, () => {
        sock.destroy();
        resolve(false);
      });
      sock.on('error', () => resolve(false));
    });

  const waitFor = async (what: string, check: () => Promise<boolean>, timeoutMs: number, everyMs = 250) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (await check()) return;
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
      await sleep(everyMs);
    }
  };

  const writeSmbConf = (dc: (typeof plan)[number]) => {
    const d = dcDir(dc.name);
    for (const sub of ['run', 'log', 'cache', 'state']) mkdirSync(join(d, sub), { recursive: true });
    // Written whole rather than patched: every path lives under the DC's own directory (two DCs sharing a pid,
    // lock or socket directory refuse to start), and only the services the forest needs run.
    const conf = `# gmsa-runbooks samba test forest: ${dc.name}
[global]
	netbios name = ${dc.name.toUpperCase()}
	realm = ${REALM}
	workgroup = ${NETBIOS}
	server role = active directory domain controller
	server services = rpc, ldap, cldap, kdc, drepl, kcc
	interfaces = ${dc.address}
	bind interfaces only = yes
	disable netbios = yes
	private dir = ${join(d, 'private')}
	binddns dir = ${join(d, 'bind-dns')}
	lock directory = ${d}
	state directory = ${join(d, 'state')}
	cache directory = ${join(d, 'cache')}
	pid directory = ${join(d, 'run')}
	ncalrpc dir = ${join(d, 'run', 'ncalrpc')}
	winbindd socket directory = ${join(d, 'run', 'winbindd')}
	ntp signd socket directory = ${join(d, 'run', 'ntp_signd')}
	log file = ${join(d, 'log', 'samba.log')}
	logging = file
	max log size = 10000
	panic action =
	tls enabled = yes
	tls keyfile = ${join(d, 'tls', 'key.pem')}
	tls certfile = ${join(d, 'tls', 'cert.pem')}
	tls cafile = ${caFile}
	prefork children = 2
	# Pull from every partner every 5 s (default 300 s), so tests do not wait for the periodic pass.
	dreplsrv:periodic_interval = 5
	kccsrv:periodic_interval = 15
	kccsrv:periodic_startup_interval = 2

[sysvol]
	path = ${join(d, 'state', 'sysvol')}
	read only = No

[netlogon]
	path = ${join(d, 'state', 'sysvol', DNS_DOMAIN, 'scripts')}
	read only = No
`;
    writeFileSync(confOf(dc.name), conf);
  };

  const makeCerts = async () => {
    const caKey = join(baseDir, 'ca.key');
    await run('openssl', [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      caKey,
      '-out',
      caFile,
      '-days',
      '30',
      '-subj',
      '/CN=gmsa-runbooks samba test forest CA',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ]);
    await Promise.all(
      plan.map(async (dc) => {
        const dir = join(dcDir(dc.name), 'tls');
        mkdirSync(dir, { recursive: true });
        const host = `${dc.name}.${DNS_DOMAIN}`;
        await run('openssl', [
          'req',
          '-x509',
          '-CA',
          caFile,
          '-CAkey',
          caKey,
          '-newkey',
          'ec',
          '-pkeyopt',
          'ec_paramgen_curve:prime256v1',
          '-nodes',
          '-keyout',
          join(dir, 'key.pem'),
          '-out',
          join(dir, 'cert.pem'),
          '-days',
          '30',
          '-subj',
          `/CN=${host}`,
          '-addext',
          `subjectAltName=DNS:${host},DNS:${dc.name},IP:${dc.address}`,
          '-addext',
          'extendedKeyUsage=serverAuth',
          '-addext',
          'basicConstraints=CA:FALSE',
        ]);
        // Samba refuses a key file that others can read.
        chmodSync(join(dir, 'key.pem'), 0o600);
      }),
    );
  };

  const startProcess = async (name: string) => {
    const dc = plan.find((p) => p.name === name);
    if (!dc) throw new Error(`no DC named ${name}`);
    if (children.has(name)) return;
    const out = openSync(join(dcDir(name), 'log', 'samba.out'), 'a');
    // Detached: its own process group, stopped by group id; -F keeps it in the foreground so the pid is samba's.
    const child = spawn(
      'unshare',
      [
        '--mount',
        '--propagation',
        'private',
        '--',
        '/bin/sh',
        '-c',
        NS_SCRIPT,
        'samba-ns',
        hostsFile,
        'samba',
        '-F',
        '--no-process-group',
        '-s',
        confOf(name),
      ],
      { env, detached: true, stdio: ['ignore', out, out] },
    );
    closeSync(out);
    child.unref();
    const pid = child.pid;
    if (pid === undefined) throw new Error(`could not start samba for ${name}`);
    const start = procStat(pid)?.start ?? '';
    const rec: ProcessRecord = { name, pid, pgid: pid, start };
    children.set(name, rec);
    state.processes.push(rec);
    saveState();
    let exited = false;
    child.once('exit', () => {
      exited = true;
    });
    await waitFor(
      `${name} to answer LDAPS on ${dc.address}:636`,
      async () => {
        if (exited) {
          const logTail = readFileSync(join(dcDir(name), 'log', 'samba.log'), 'utf8')
            .split('\n')
            .slice(-20);
          throw new Error(`samba for ${name} exited during start-up:\n${logTail.join('\n')}`);
        }
        return ldapsReady(dc.address);
      },
      60_000,
    );
  };

  const stopProcess = async (name: string) => {
    const rec = children.get(name);
    if (!rec) return;
    const ours = () => pidsInGroup(rec.pgid);
    try {
      process.kill(-rec.pgid, 'SIGTERM');
    } catch {
      // already gone
    }
    const deadline = Date.now() + 15_000;
    while (ours().length > 0 && Date.now() < deadline) await sleep(100);
    for (const pid of ours()) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // raced with its exit
      }
    }
    while (ours().length > 0) await sleep(50);
    children.delete(name);
    state.processes = state.processes.filter((p) => p !== rec);
    saveState();
  };

  const ntdsGuid = async (dc: { address: string }) => {
    const client = ldap(dc);
    try {
      await client.bind(ADMIN_UPN, adminPassword);
      const root = await client.search('', { scope: 'base', attributes: ['dsServiceName'] });
      const dsa = String(root.searchEntries[0].dsServiceName);
      const res = await client.search(dsa, {
        scope: 'base',
        attributes: ['objectGUID'],
        explicitBufferAttributes: ['objectGUID'],
      });
      return guidString(res.searchEntries[0].objectGUID as Buffer);
    } finally {
      await client.unbind();
    }
  };

  const hasSeed = async (dc: { address: string }) => {
    const client = ldap(dc);
    try {
      await client.bind(ADMIN_UPN, adminPassword);
      const names = [...SEED_COMPUTERS.map((c) => `${c}$`), ...SEED_GROUPS];
      const filter = `(|${names.map((n) => `(sAMAccountName=${n})`).join('')})`;
      const objs = await client.search(BASE_DN, { filter, attributes: ['sAMAccountName'] });
      const keys = await client.search(KDS_CONTAINER, {
        scope: 'one',
        filter: '(objectClass=msKds-ProvRootKey)',
        attributes: ['cn'],
      });
      return objs.searchEntries.length === names.length && keys.searchEntries.length > 0;
    } catch {
      return false;
    } finally {
      await client.unbind().catch(() => undefined);
    }
  };

  const seed = async () => {
    const client = ldap(plan[0]);
    try {
      await client.bind(ADMIN_UPN, adminPassword);
      for (const [i, c] of SEED_COMPUTERS.entries()) {
        await client.add(`CN=${c},CN=Computers,${BASE_DN}`, {
          objectClass: ['top', 'person', 'organizationalPerson', 'user', 'computer'],
          sAMAccountName: `${c}$`,
          // WORKSTATION_TRUST_ACCOUNT: what `samba-tool computer add` and domain join create.
          userAccountControl: '4096',
          dNSHostName: `server${i + 1}.${DNS_DOMAIN}`,
        });
      }
      for (const g of SEED_GROUPS) {
        await client.add(`CN=${g},CN=Users,${BASE_DN}`, { objectClass: ['top', 'group'], sAMAccountName: g });
      }
    } finally {
      await client.unbind();
    }
  };

  const samdb = (name: string) => join(dcDir(name), 'private', 'sam.ldb');

  try {
    // Addresses: add what is missing and remember it; an address already there is someone else's to keep.
    const present = new Set(loAddresses());
    for (const dc of plan) {
      if (present.has(dc.address)) {
        if (await ldapsReady(dc.address)) throw new Error(`something already answers on ${dc.address}:636`);
        continue;
      }
      execFileSync('ip', ['addr', 'add', `${dc.address}/32`, 'dev', 'lo']);
      state.addedAddresses.push(dc.address);
      saveState();
    }
    writeFileSync(
      krb5File,
      `[libdefaults]
	default_realm = ${REALM}
	dns_lookup_realm = false
	dns_lookup_kdc = false
	rdns = false
	dns_canonicalize_hostname = false

[realms]
	${REALM} = {
${plan.map((dc) => `		kdc = ${dc.address}`).join('\n')}
	}

[domain_realm]
	.${DNS_DOMAIN} = ${REALM}
	${DNS_DOMAIN} = ${REALM}
`,
    );
    writeHosts();

    let t = Date.now();
    const dc1 = plan[0];
    await Promise.all([
      makeCerts(),
      run(
        'samba-tool',
        [
          'domain',
          'provision',
          `--realm=${REALM}`,
          `--domain=${NETBIOS}`,
          '--server-role=dc',
          '--dns-backend=NONE',
          `--adminpass=${adminPassword}`,
          `--targetdir=${dcDir(dc1.name)}`,
          `--host-name=${dc1.name}`,
          `--host-ip=${dc1.address}`,
          `--option=interfaces=${dc1.address}`,
          '--option=bind interfaces only=yes',
        ],
        { env },
      ),
    ]);
    writeSmbConf(dc1);
    log(`dc1 provisioned in ${Date.now() - t} ms`);

    t = Date.now();
    await startProcess(dc1.name);
    guids.set(dc1.name, await ntdsGuid(dc1));
    writeHosts();
    // The provisioned DC's own SPNs (among them the DRS one, E3514235-…/<NTDS GUID>/lab.local, that partners ask
    // tickets for) are only registered by samba_spnupdate, which the `dnsupdate` service would run; that service is
    // left out (no DNS here), so run it once. Without it every pull from dc1 fails with WERR_INVALID_PARAMETER
    // ("Server … unknown" at the KDC). Joined DCs get their SPNs from the join itself.
    await inNs('samba_spnupdate', ['-s', confOf(dc1.name)]);
    log(`dc1 answering LDAPS in ${Date.now() - t} ms`);

    // Seeded before the joins, so the joins' initial full replication carries them (nothing to wait for after).
    t = Date.now();
    const kdsStart = ldapTime(new Date(Date.now() - 11 * 3600 * 1000));
    const sambaTool = (args: string[]) => inNs('samba-tool', [...args, '-s', confOf(dc1.name)]);
    await Promise.all([
      seed(),
      sambaTool(['domain', 'kds', 'root-key', 'create', `--use-start-time=${kdsStart}`, '-H', samdb(dc1.name)]),
      dcCount === 3
        ? (async () => {
            await sambaTool(['sites', 'create', BRANCH_SITE, '-H', samdb(dc1.name)]);
            await sambaTool(['sites', 'subnet', 'create', `${plan[2].address}/32`, BRANCH_SITE, '-H', samdb(dc1.name)]);
          })()
        : Promise.resolve(),
    ]);
    log(
      `seeded (KDS root key from ${kdsStart}, computers, groups${dcCount === 3 ? ', site Branch' : ''}) in ${Date.now() - t} ms`,
    );

    for (const dc of plan.slice(1)) {
      t = Date.now();
      await inNs('samba-tool', [
        'domain',
        'join',
        DNS_DOMAIN,
        'DC',
        `--server=${dc1.address}`,
        `-U${ADMIN_UPN}`,
        `--targetdir=${dcDir(dc.name)}`,
        '--dns-backend=NONE',
        `--option=netbios name=${dc.name.toUpperCase()}`,
        `--option=interfaces=${dc.address}`,
        '--option=bind interfaces only=yes',
        `--site=${dc.site}`,
      ]);
      writeSmbConf(dc);
      log(`${dc.name} joined (site ${dc.site}) in ${Date.now() - t} ms`);
      t = Date.now();
      await startProcess(dc.name);
      guids.set(dc.name, await ntdsGuid(dc));
      writeHosts();
      log(`${dc.name} answering LDAPS in ${Date.now() - t} ms`);
    }

    t = Date.now();
    for (const dc of plan) await waitFor(`${dc.name} to hold the seeded objects`, () => hasSeed(dc), 120_000, 500);
    log(`every DC holds the seeded objects (${Date.now() - t} ms)`);
  } catch (err) {
    removeHandlers();
    stopped = true;
    for (const name of [...children.keys()]) await stopProcess(name).catch(() => undefined);
    teardownFromStateSync(stateFile);
    throw err;
  }

  const setupMs = Date.now() - started;
  log(`samba forest of ${dcCount} DCs up in ${setupMs} ms (slot ${slot}, ${baseDir})`);

  const known = (name: string) => {
    if (!plan.some((p) => p.name === name)) throw new Error(`no DC named ${name}`);
  };

  return {
    realm: REALM,
    netbios: NETBIOS,
    dnsDomain: DNS_DOMAIN,
    baseDn: BASE_DN,
    adminUser: ADMIN_UPN,
    adminPassword,
    caFile,
    baseDir,
    setupMs,
    dcs: plan.map((dc) => ({
      name: dc.name,
      hostName: `${dc.name}.${DNS_DOMAIN}`,
      address: dc.address,
      site: dc.site,
      ldapsUrl: `ldaps://${dc.address}:636`,
    })),
    async stopDc(name) {
      known(name);
      await stopProcess(name);
      log(`${name} stopped`);
    },
    async startDc(name) {
      known(name);
      const t = Date.now();
      await startProcess(name);
      log(`${name} started in ${Date.now() - t} ms`);
    },
    async replicate(from, to) {
      known(from);
      known(to);
      for (const nc of [BASE_DN, CONFIG_DN]) {
        await inNs('samba-tool', [
          'drs',
          'replicate',
          `${to}.${DNS_DOMAIN}`,
          `${from}.${DNS_DOMAIN}`,
          nc,
          `-U${ADMIN_UPN}`,
          '-s',
          confOf(to),
        ]);
      }
    },
    processIds() {
      return [...children.values()].flatMap((rec) => pidsInGroup(rec.pgid));
    },
    async stop() {
      if (stopped) return;
      const t = Date.now();
      stopped = true;
      removeHandlers();
      await Promise.all([...children.keys()].map((name) => stopProcess(name)));
      teardownFromStateSync(stateFile);
      // Our own child (not yet reaped, so its pid cannot have been reused); it would also quit by itself within a
      // second of the state file disappearing.
      if (reaper.exitCode === null && reaper.signalCode === null) {
        const gone = new Promise((resolve) => reaper.once('exit', resolve));
        reaper.kill('SIGTERM');
        await gone;
      }
      log(`samba forest torn down in ${Date.now() - t} ms`);
    },
  };
}
