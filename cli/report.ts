/** How a finished run reads in a terminal. */
import type { RunOutcome } from '../client/watch';

export function printOutcome(outcome: RunOutcome, print: (line: string) => void = console.log): void {
  if (outcome.ok) {
    const r = outcome.result;
    if (r.status === 'planned') {
      print(`Dry run: planned, nothing changed. Pinned DC ${r.plan.pinnedDc}; gMSA ${r.plan.gmsa.action}.`);
      for (const h of r.plan.hosts) print(`  ${h.hostName} (${h.site}): endpoint ${h.endpointAction}`);
      for (const n of r.plan.notes) print(`  note: ${n}`);
      return;
    }
    const seconds = (Date.parse(r.finishedAt) - Date.parse(r.startedAt)) / 1000;
    print(
      `Succeeded in ${seconds.toFixed(1)} s: gMSA ${r.plan.gmsa.name} (${r.plan.gmsa.action}d on ${r.plan.pinnedDc}).`,
    );
    for (const [host, identity] of Object.entries(r.identities)) print(`  ${host}: remote identity ${identity}`);
    return;
  }
  print(`Run ${outcome.state}: [${outcome.type}] ${outcome.message}`);
  if (outcome.report?.needsHuman.length) {
    print('NEEDS A HUMAN:');
    for (const n of outcome.report.needsHuman) print(`  - ${n.name}: ${n.error}`);
  }
}
