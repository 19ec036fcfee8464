/**
 * Randomized fault schedules for provisionGmsaRemoting: a seeded PRNG, and from one seed one run's request
 * (1-4 lab hosts, sometimes a pre-existing gMSA to adopt) and its faults, each with the moment it is injected
 * (up front, after a delay, when the run reaches a step, when the lab logs an operation) and sometimes a cancel.
 *
 * A schedule is a pure function of its seed: `GMSA_RELIABILITY_SEED=<seed> GMSA_RELIABILITY_RUNS=1` draws the same
 * schedule again (the interleaving with the run is real time, so a replay is as close as timing allows).
 */
import type { LabFaultSpec } from '../../../backends/lab/faults';
import type { SeedServiceAccount } from '../../../backends/lab/model';
import { computerSamFor, defaultTopology } from '../../../backends/lab/topology';
import { FailureType } from '../../../runbook/failures';
import type { RunbookRequestInput } from '../../../runbook/request';

// ───────────────────────────── seeded randomness ─────────────────────────────

export interface Random {
  /** [0, 1) */
  next(): number;
  int(min: number, max: number): number;
  chance(p: number): boolean;
  pick<T>(items: readonly T[]): T;
  /** A random subset of `items` with `count` elements, in the items' order. */
  some<T>(items: readonly T[], count: number): T[];
  weighted<T extends string>(weights: Readonly<Record<T, number>>): T;
}

/** mulberry32 over a splitmix32-scrambled seed, so that consecutive seeds give unrelated streams. */
export function seededRandom(seed: number): Random {
  let s = seed >>> 0;
  s = Math.imul(s ^ (s >>> 16), 0x21f0aaad);
  s = Math.imul(s ^ (s >>> 15), 0x735a2d97);
  let state = (s ^ (s >>> 15)) >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const rnd: Random = {
    next,
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    chance: (p) => next() < p,
    pick: (items) => items[Math.floor(next() * items.length)],
    some: (items, count) => {
      const chosen = new Set<number>();
      while (chosen.size < Math.min(count, items.length)) chosen.add(Math.floor(next() * items.length));
      return items.filter((_, i) => chosen.has(i));
    },
    weighted: (weights) => {
      const entries = Object.entries(weights) as [keyof typeof weights, number][];
      let r = next() * entries.reduce((sum, [, w]) => sum + w, 0);
      for (const [key, w] of entries) {
        if ((r -= w) < 0) return key;
      }
      return entries[entries.length - 1][0];
    },
  };
  return rnd;
}

// ───────────────────────────── schedules ─────────────────────────────

/** When a fault (or the cancel) is injected. */
export type Trigger =
  | { at: 'upfront' }
  /** Real milliseconds after the run started. */
  | { at: 'delay'; ms: number }
  /** As soon as the `progress` query shows the step (a run step, or a host step on any host) under way, or done. */
  | { at: 'step'; step: string; done?: true }
  /** As soon as the lab has logged the operation (on that target, when given). */
  | { at: 'event'; op: string; target?: string };

/** What the counts table groups faults by. */
export const FAULT_KINDS = [
  'dc-down',
  'replication-blocked',
  'host-unreachable',
  'winrm-hang',
  'fails-k-times',
  'permanent-nonretryable',
  'permanent-outlasts-retries',
  'undo-blocked',
  'virtual-account',
  'disable-runas',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface PlannedFault {
  kind: FaultKind;
  spec: LabFaultSpec;
  trigger: Trigger;
}

export interface FaultSchedule {
  seed: number;
  request: RunbookRequestInput;
  /** A gMSA that exists before the run (the run adopts it; rollback must leave it as it was). */
  preexisting?: SeedServiceAccount;
  faults: PlannedFault[];
  cancel?: Trigger;
}

const TOPOLOGY = defaultTopology();
const HOSTS = TOPOLOGY.hosts.map((h) => h.hostName);
const DCS = TOPOLOGY.domainControllers.map((d) => d.hostName);
const ENDPOINT = 'GmsaRemoting';

/** Port methods the runbook calls going forward; SHARED ones are also called by undos, UNDO ones only by them. */
const DIRECTORY_OPS = ['getKdsRootKeys', 'findAccountsNamed', 'getComputer', 'createServiceAccount'] as const;
const HOST_OPS = ['probeHost', 'testServiceAccount', 'startRegistration', 'invokeIdentityProbe'] as const;
const SHARED_OPS = ['getServiceAccount', 'getSessionConfiguration'] as const;
/** Forward calls that change something: a fault `after` one is "it took effect, then the call failed". */
const FORWARD_MUTATING_OPS = ['createServiceAccount', 'setServiceAccountPrincipals', 'startRegistration'];
const MUTATING_OPS = new Set([...FORWARD_MUTATING_OPS, 'removeServiceAccount', 'startUnregistration']);
const UNDO_OPS = ['removeServiceAccount', 'startUnregistration'] as const;
const isHostOp = (op: string): boolean =>
  (HOST_OPS as readonly string[]).includes(op) || op === 'getSessionConfiguration' || op === 'startUnregistration';

/** Non-retryable failures that make sense for the operation (what the real cmdlet could answer for good). */
function permanentTypeFor(rnd: Random, op: string): FailureType {
  const byOp: Record<string, FailureType[]> = {
    getKdsRootKeys: [FailureType.AccessDenied, FailureType.KdsRootKeyMissing],
    createServiceAccount: [FailureType.AccessDenied, FailureType.GmsaNameConflict],
    startRegistration: [FailureType.AccessDenied, FailureType.RunAsDisabledByPolicy],
    invokeIdentityProbe: [FailureType.AccessDenied, FailureType.IdentityMismatch, FailureType.IdentityProbeMissing],
    probeHost: [FailureType.AccessDenied, FailureType.ComputerAccountMissing],
  };
  return rnd.pick(byOp[op] ?? [FailureType.AccessDenied]);
}

function retryableTypeFor(rnd: Random, op: string): FailureType {
  return isHostOp(op)
    ? rnd.pick([FailureType.HostUnreachable, FailureType.WinRmTransport, FailureType.TransientFault])
    : rnd.pick([FailureType.ServerDown, FailureType.TransientFault, FailureType.BackendUnavailable]);
}

const STEPS = ['create-gmsa', 'wait-replication', 'hosts', 'install', 'register-endpoint', 'verify-identity'];
const EVENTS = ['createServiceAccount', 'startRegistration', 'registrationCompleted', 'faultFired'];

function randomTrigger(rnd: Random): Trigger {
  switch (rnd.weighted({ upfront: 35, delay: 25, step: 20, event: 20 })) {
    case 'upfront':
      return { at: 'upfront' };
    case 'delay':
      return { at: 'delay', ms: rnd.int(0, 3000) };
    case 'step':
      return { at: 'step', step: rnd.pick(STEPS) };
    case 'event':
      return { at: 'event', op: rnd.pick(EVENTS) };
  }
}

/** Any moment, or right at the end (re-verification schedule, final ticket update), where a cancel is subtle. */
function cancelTrigger(rnd: Random): Trigger {
  if (rnd.chance(0.25)) return { at: 'step', step: 'hosts', done: true };
  const t = randomTrigger(rnd);
  return t.at === 'upfront' ? { at: 'delay', ms: 0 } : t;
}

/** A short-lived fault: a few real seconds, the run's retries and waits ride it out (or time out and roll back). */
const shortly = (rnd: Random): number => rnd.int(300, 4000);

interface Context {
  rnd: Random;
  hosts: string[];
  adopting: boolean;
  /** The adopted gMSA lacks some requested principal, so the run adds principals (and must remove them again). */
  addsPrincipals: boolean;
}

/** One fault of the kind, with its trigger; some kinds bring a companion that forces a rollback. */
function plan(kind: FaultKind, ctx: Context): PlannedFault[] {
  const { rnd } = ctx;
  const host = (): string => (rnd.chance(0.85) ? rnd.pick(ctx.hosts) : rnd.pick(HOSTS));
  const one = (spec: LabFaultSpec, trigger = randomTrigger(rnd)): PlannedFault[] => [{ kind, spec, trigger }];
  switch (kind) {
    case 'dc-down':
      return one({ kind, dc: rnd.pick(DCS), durationMs: shortly(rnd) });
    case 'replication-blocked':
      return one({ kind, dc: rnd.pick(DCS), durationMs: shortly(rnd) });
    case 'host-unreachable':
      return one({ kind, host: host(), durationMs: shortly(rnd) });
    case 'winrm-hang':
      return one(
        rnd.chance(0.5)
          ? { kind, host: host(), hangMs: rnd.int(100, 1500), remaining: rnd.int(1, 3) }
          : { kind, host: host(), hangMs: rnd.int(100, 1500), durationMs: shortly(rnd) },
      );
    case 'virtual-account':
      return one({ kind, host: host(), remaining: 1 });
    case 'disable-runas':
      return one({ kind, host: host(), durationMs: rnd.int(2000, 6000) });
    case 'fails-k-times': {
      const ops = [...DIRECTORY_OPS, ...HOST_OPS, ...SHARED_OPS, ...UNDO_OPS, 'setServiceAccountPrincipals'];
      const operation = rnd.pick(ops);
      const when = MUTATING_OPS.has(operation) && rnd.chance(0.5) ? 'after' : 'before';
      return one({
        kind: 'fail-operation',
        operation,
        failureType: retryableTypeFor(rnd, operation),
        when,
        times: rnd.int(1, 3),
      });
    }
    case 'permanent-nonretryable': {
      // Forward-only operations fail for good; ones the undos also call fail once and only in preflight, so that
      // whatever the run changed can still be undone (an undo that cannot even look cannot know what is left).
      const operation = rnd.pick([...DIRECTORY_OPS, ...HOST_OPS, ...SHARED_OPS, 'setServiceAccountPrincipals']);
      const shared = (SHARED_OPS as readonly string[]).includes(operation);
      // A mutating call may also take effect and then fail for good: its undo must find and remove the result.
      const when = FORWARD_MUTATING_OPS.includes(operation) && rnd.chance(0.3) ? 'after' : 'before';
      const spec: LabFaultSpec = {
        kind: 'fail-operation',
        operation,
        failureType: permanentTypeFor(rnd, operation),
        when,
        ...(shared || rnd.chance(0.3) ? { times: 1 } : {}),
      };
      return shared ? one(spec, { at: 'upfront' }) : one(spec);
    }
    case 'permanent-outlasts-retries': {
      // Retryable, but longer than the policy's 6 attempts (~31 s): the step gives up and the run rolls back.
      const operation = rnd.pick(['createServiceAccount', 'startRegistration', 'invokeIdentityProbe', 'probeHost']);
      return one({ kind: 'fail-operation', operation, failureType: FailureType.TransientFault, when: 'before' });
    }
    case 'undo-blocked':
      return undoBlocked(ctx);
  }
}

/**
 * A compensation that cannot finish: once the forward step has taken effect, its undo's operation starts failing
 * for good (AccessDenied), and a later failure forces the rollback. The run must end needing a human for exactly
 * what is left (or, when the rollback ran before the block landed, rolled back cleanly).
 */
function undoBlocked(ctx: Context): PlannedFault[] {
  const { rnd } = ctx;
  const kind = 'undo-blocked';
  const variants = ['endpoint', ...(ctx.adopting ? (ctx.addsPrincipals ? ['principals'] : []) : ['gmsa'])];
  const denied = (operation: string, target?: string): LabFaultSpec => ({
    kind: 'fail-operation',
    operation,
    failureType: FailureType.AccessDenied,
    ...(target ? { target } : {}),
  });
  let block: PlannedFault;
  switch (rnd.pick(variants)) {
    case 'gmsa':
      block = { kind, spec: denied('removeServiceAccount'), trigger: { at: 'event', op: 'createServiceAccount' } };
      break;
    case 'principals':
      block = {
        kind,
        spec: denied('setServiceAccountPrincipals'),
        trigger: { at: 'event', op: 'setServiceAccountPrincipals' },
      };
      break;
    default: {
      const h = rnd.pick(ctx.hosts);
      block = {
        kind,
        spec: denied('startUnregistration', h),
        trigger: { at: 'event', op: 'registrationCompleted', target: h },
      };
    }
  }
  // The forcing failure: identity checks fail once (retryable, a second for the block to land), then for good.
  const force: PlannedFault[] = [
    {
      kind: 'fails-k-times',
      spec: {
        kind: 'fail-operation',
        operation: 'invokeIdentityProbe',
        failureType: FailureType.TransientFault,
        times: 1,
      },
      trigger: { at: 'upfront' },
    },
    {
      kind: 'permanent-nonretryable',
      spec: { kind: 'fail-operation', operation: 'invokeIdentityProbe', failureType: FailureType.AccessDenied },
      trigger: { at: 'upfront' },
    },
  ];
  return [block, ...force];
}

const FAULT_WEIGHTS: Record<FaultKind, number> = {
  'dc-down': 12,
  'replication-blocked': 6,
  'host-unreachable': 12,
  'winrm-hang': 10,
  'fails-k-times': 20,
  'permanent-nonretryable': 12,
  'permanent-outlasts-retries': 2,
  'undo-blocked': 8,
  'virtual-account': 5,
  'disable-runas': 4,
};

const GMSA_NAMES = ['TestgMSA', 'svc-remoting', 'RelgMSA01'];

/** Everything about one run, from its seed. */
export function generateSchedule(seed: number): FaultSchedule {
  const rnd = seededRandom(seed);
  const hosts = rnd.some(HOSTS, rnd.int(1, HOSTS.length));
  const name = rnd.pick(GMSA_NAMES);
  const adopting = rnd.chance(0.25);
  let preexisting: SeedServiceAccount | undefined;
  let addsPrincipals = false;
  if (adopting) {
    // Principals it already had: some of the requested hosts (maybe all), maybe one that is not requested.
    const sams = HOSTS.map(computerSamFor);
    const principals = rnd.some(sams, rnd.int(0, sams.length));
    addsPrincipals = hosts.some((h) => !principals.includes(computerSamFor(h)));
    preexisting = { name, principals, description: 'pre-existing: owned by another team' };
  }
  const request: RunbookRequestInput = {
    ticket: { key: `REL-${seed}` },
    domain: { netbios: 'LAB', dns: 'lab.local' },
    gmsa: { name },
    hosts,
    endpoint: {
      name: ENDPOINT,
      roleDefinitions: { 'LAB\\JEA-Operators': { roleCapabilities: ['GmsaRemotingOperator'] } },
      transcriptDirectory: 'C:\\ProgramData\\JEA\\Transcripts',
    },
    replication: {
      pollIntervalSeconds: rnd.pick([0.1, 0.2, 0.3]),
      timeoutSeconds: rnd.int(5, 15),
      scope: rnd.pick(['all', 'host-sites'] as const),
      syncObject: rnd.chance(0.3),
    },
    maxParallelHosts: rnd.int(1, 4),
    verification: { enabled: rnd.chance(0.5) },
  };

  const ctx: Context = { rnd, hosts, adopting, addsPrincipals };
  const count = rnd.weighted({ 0: 8, 1: 40, 2: 35, 3: 17 });
  const faults: PlannedFault[] = [];
  for (let i = 0; i < Number(count); i++) faults.push(...plan(rnd.weighted(FAULT_WEIGHTS), ctx));
  return { seed, request, preexisting, faults, cancel: rnd.chance(0.15) ? cancelTrigger(rnd) : undefined };
}

// ───────────────────────────── printing ─────────────────────────────

export function describeTrigger(t: Trigger): string {
  switch (t.at) {
    case 'upfront':
      return 'up front';
    case 'delay':
      return `+${t.ms}ms`;
    case 'step':
      return `${t.done ? 'after' : 'at'} ${t.step}`;
    case 'event':
      return `on ${t.op}${t.target ? `(${t.target.split('.')[0]})` : ''}`;
  }
}

export function describeSpec(spec: LabFaultSpec): string {
  const { kind, ...rest } = spec;
  const fields = Object.entries(rest)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v.replace(/\.lab\.local$/, '') : String(v)}`)
    .join(' ');
  return `${kind}(${fields})`;
}

export function describeSchedule(s: FaultSchedule): string {
  const r = s.request;
  const hosts = r.hosts.map((h) => h.split('.')[0]).join(',');
  const adopt = s.preexisting ? ` adopt[${s.preexisting.principals.join(',') || 'no principals'}]` : '';
  const faults = s.faults.map((f) => `${describeSpec(f.spec)} ${describeTrigger(f.trigger)}`);
  if (s.cancel) faults.push(`cancel ${describeTrigger(s.cancel)}`);
  return `${r.gmsa.name} → ${hosts}${adopt}; ${faults.join('; ') || 'no faults'}`;
}
