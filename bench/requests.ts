/**
 * Requests for benchmark runs: the sample runbook (examples/testgmsa-remoting.json's shape) with a gMSA name, a
 * ticket and an endpoint name of its own per run, so concurrent runs never collide on a name, a workflow id or
 * an endpoint (which the runbook would rightly refuse as a conflict).
 */
import type { RunbookRequestInput } from '../runbook/request';

// A per-invocation tag keeps names distinct from any earlier bench run against the same server or lab.
const TAG = Date.now().toString(36).slice(-4);
let seq = 0;

/** The request's own default (15 s), in real-world seconds. */
const REPLICATION_POLL_S = 15;

export interface BenchRequestOptions {
  /** Host numbers in the lab's generated topology (serverN.lab.local). */
  hosts: number[];
  maxParallelHosts?: number;
  /**
   * The lab's time scale. The runbook's own wait (the replication poll) is compressed by the same factor as the
   * lab's latencies, so a time-scaled run keeps the proportions of a real one (a 15 s poll against a 15 min
   * site link); at scale 0 the first look already sees every DC.
   */
  timeScale: number;
}

export function benchRequest(opts: BenchRequestOptions): RunbookRequestInput {
  const n = (seq++).toString(36);
  const name = `b${TAG}${n}`; // ≤ 14 characters: the sAMAccountName with `$` is ≤ 15
  return {
    ticket: { key: `B${TAG}-${seq}` },
    domain: { netbios: 'LAB', dns: 'lab.local' },
    gmsa: { name },
    hosts: opts.hosts.map((h) => `server${h}.lab.local`),
    endpoint: {
      name: `Bench.${name}`,
      roleDefinitions: { 'LAB\\JEA-Operators': { roleCapabilities: ['GmsaRemotingOperator'] } },
      transcriptDirectory: 'C:\\ProgramData\\JEA\\Transcripts',
    },
    replication: { pollIntervalSeconds: Math.max(0.1, REPLICATION_POLL_S * opts.timeScale) },
    maxParallelHosts: opts.maxParallelHosts ?? 4,
  };
}

/** Host numbers 1..count. */
export function hostRange(count: number, first = 1): number[] {
  return Array.from({ length: count }, (_, i) => first + i);
}
