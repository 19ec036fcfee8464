/**
 * Faults the lab can inject: the failures a real domain produces (DC down, replication blocked, WinRM hanging,
 * a hardened host) plus a generic "this call fails" for any port method. They are part of the persisted state so a
 * restarted lab keeps misbehaving the same way.
 */
import { z } from 'zod';
import { FailureType } from '../../runbook/failures';

const failureTypes = Object.values(FailureType) as [FailureType, ...FailureType[]];

/** Fields every fault may carry: fire only `remaining` times; expire after `durationMs` real milliseconds. */
const common = {
  remaining: z.number().int().positive().optional(),
  durationMs: z.number().int().positive().optional(),
};

const name = z.string().min(1);

export const LabFaultSpecSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('dc-down'), dc: name, ...common }),
  z.object({ kind: z.literal('replication-blocked'), dc: name, ...common }),
  z.object({ kind: z.literal('host-unreachable'), host: name, ...common }),
  z.object({ kind: z.literal('winrm-hang'), host: name, hangMs: z.number().int().nonnegative(), ...common }),
  z.object({ kind: z.literal('virtual-account'), host: name, ...common }),
  z.object({ kind: z.literal('disable-runas'), host: name, ...common }),
  z.object({
    kind: z.literal('fail-operation'),
    /** A DirectoryPort/HostPort method name, e.g. createServiceAccount. */
    operation: name,
    failureType: z.enum(failureTypes),
    /** 'after': the operation takes effect and then the call fails (the "did the work but timed out" case). */
    when: z.enum(['before', 'after']).default('before'),
    /** Shorthand for `remaining`; omit both to fail forever. */
    times: z.number().int().positive().optional(),
    /** Only calls whose dc or host argument is this name. */
    target: name.optional(),
    message: z.string().optional(),
    ...common,
  }),
]);

export type LabFaultSpec = z.input<typeof LabFaultSpecSchema>;
type ParsedFaultSpec = z.output<typeof LabFaultSpecSchema>;

/** A fault as stored: its id, what is left of its count, and when it expires (absolute ms). */
export type LabFault = ParsedFaultSpec extends infer F
  ? F extends ParsedFaultSpec
    ? Omit<F, 'durationMs' | 'times'> & { id: string; remaining?: number; expiresAt?: number }
    : never
  : never;

export type LabFaultKind = LabFault['kind'];

/** Turn a validated spec into a stored fault. */
export function toStoredFault(spec: ParsedFaultSpec, id: string, nowMs: number): LabFault {
  const remaining = spec.kind === 'fail-operation' ? (spec.times ?? spec.remaining) : spec.remaining;
  // Copy, then drop the input-only fields: the stored form counts down `remaining` and expires at `expiresAt`.
  const stored = { ...spec, id } as LabFault & { durationMs?: number; times?: number };
  delete stored.durationMs;
  delete stored.times;
  delete stored.remaining;
  if (remaining !== undefined) stored.remaining = remaining;
  if (spec.durationMs !== undefined) stored.expiresAt = nowMs + spec.durationMs;
  return stored;
}
