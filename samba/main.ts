/**
 * A Samba test forest for people: `node dist/samba/main.js up [--dir DIR] [--dcs 2|3]` starts one,
 * prints its JSON description on stdout and keeps it running until SIGINT/SIGTERM, then tears it down.
 * `down [--dir DIR]` ends forests: a running one (matching DIR if given) is sent SIGINT so its owner tears it down,
 * and what a crashed or kill -9'd owner left behind (processes, loopback addresses, files) is removed here.
 */
import { resolve } from 'node:path';
import { listForests, sambaAvailable, startSambaForest, teardownLeftovers } from './forest';

const log = (line: string) => process.stderr.write(`[samba] ${line}\n`);

function usage(): never {
  process.stderr.write('usage: samba/main.js up [--dir DIR] [--dcs 2|3] | down [--dir DIR]\n');
  process.exit(2);
}

async function down(dir: string | undefined): Promise<void> {
  const forests = listForests().filter((f) => dir === undefined || resolve(f.baseDir) === resolve(dir));
  if (forests.length === 0) log('no samba forest found: nothing to do');
  for (const f of forests) {
    if (!f.running) {
      teardownLeftovers(f.slot);
      log(`removed the leftovers of slot ${f.slot} (${f.baseDir})`);
      continue;
    }
    log(`slot ${f.slot} (${f.baseDir}) is owned by running process ${f.ownerPid}: sending SIGINT`);
    process.kill(f.ownerPid, 'SIGINT');
    const deadline = Date.now() + 60_000;
    while (listForests().some((g) => g.slot === f.slot && g.ownerPid === f.ownerPid) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

async function up(dir: string | undefined, dcs: number | undefined): Promise<void> {
  const avail = sambaAvailable();
  if (!avail.ok) {
    log(`cannot start: ${avail.reason ?? 'unknown reason'}`);
    process.exit(1);
  }
  const forest = await startSambaForest({ baseDir: dir, dcs, log, handleSignals: false });
  const description = {
    realm: forest.realm,
    netbios: forest.netbios,
    dnsDomain: forest.dnsDomain,
    baseDn: forest.baseDn,
    adminUser: forest.adminUser,
    adminPassword: forest.adminPassword,
    caFile: forest.caFile,
    baseDir: forest.baseDir,
    setupMs: forest.setupMs,
    dcs: forest.dcs,
  };
  process.stdout.write(`${JSON.stringify(description, null, 2)}\n`);
  log('running; Ctrl-C (SIGINT) tears it down');
  // The fixture's own signal handlers (off here) would tear down abruptly and re-raise; a graceful stop is nicer.
  await new Promise<void>((done) => {
    // Signal listeners do not keep Node's event loop alive (the DCs are unref'd children): this timer does.
    const keepAlive = setInterval(() => undefined, 1 << 30);
    const finish = () => {
      clearInterval(keepAlive);
      done();
    };
    process.once('SIGINT', finish);
    process.once('SIGTERM', finish);
  });
  await forest.stop();
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  let dir: string | undefined;
  let dcs: number | undefined;
  for (let i = 0; i < rest.length; i++) {
    if (rest[i] === '--dir' && rest[i + 1]) dir = rest[++i];
    else if (rest[i] === '--dcs' && rest[i + 1]) dcs = Number(rest[++i]);
    else usage();
  }
  if (command === 'up') await up(dir, dcs);
  else if (command === 'down') await down(dir);
  else usage();
}

main(process.argv.slice(2)).catch((err: unknown) => {
  log(err instanceof Error ? (err.stack ?? err.message) : String(err));
  process.exit(1);
});
