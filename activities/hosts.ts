/**
 * Host steps: authorize the host for the gMSA, register the endpoint that runs as it, prove the identity; and
 * their undos. Registration restarts WinRM and drops every session, including ours, so it is started detached
 * and then watched from fresh connections until the endpoint is there (or gone).
 */
import { sleep } from '@temporalio/activity';
import { BackendError } from '../backends/errors';
import type { Backend } from '../backends/ports';
import { FailureType } from '../runbook/failures';
import { carriesMark } from '../runbook/marks';
import { IDENTITY_PROBE_FUNCTION, sameAccount, type SessionConfigurationFile } from '../runbook/session-configuration';
import { stepFailure, typed } from './failures';
import { heartbeatOnceBusy } from './heartbeat';

export interface HostActivityOptions {
  /** How often a detached registration is polled. */
  pollIntervalMs: number;
}

export interface AuthorizeHostInput {
  dc: string;
  host: string;
  computerSam: string;
  gmsaName: string;
  /** Group mode: the group to add the computer to; null when the computer is a principal itself. */
  group: string | null;
}

export interface DeauthorizeHostInput {
  dc: string;
  host: string;
  computerSam: string;
  group: string;
}

export interface RegisterEndpointInput {
  host: string;
  configuration: SessionConfigurationFile;
  mark: string;
}

export interface EndpointRef {
  host: string;
  name: string;
  mark: string;
}

export interface VerifyIdentityInput {
  host: string;
  endpoint: string;
  expectedIdentity: string;
}

/** WinRM is restarting or another registration runs: wait and look again. */
function isTransientHostError(err: unknown): boolean {
  return (
    err instanceof BackendError &&
    (err.type === FailureType.WinRmTransport ||
      err.type === FailureType.HostUnreachable ||
      err.type === FailureType.RegistrationInProgress)
  );
}

export function createHostActivities(backend: Backend, options: HostActivityOptions) {
  const hosts = backend.hosts;
  const dir = backend.directory;

  /**
   * Poll until `done` says so, tolerating WinRM restarts; heartbeats so cancellation and hangs are seen. The first
   * looks after starting a job come sooner (a quarter of the interval, doubling up to it): a host that finishes
   * quickly is not kept waiting a full interval, and a slow one costs two extra looks.
   */
  async function pollHost<T>(what: string, attempt: () => Promise<T | undefined>): Promise<T> {
    for (let i = 0; ; i++) {
      heartbeatOnceBusy({ what, poll: i });
      try {
        const result = await attempt();
        if (result !== undefined) return result;
      } catch (err) {
        if (!isTransientHostError(err)) throw err;
      }
      await sleep(Math.min(options.pollIntervalMs, Math.max(1, (options.pollIntervalMs / 4) * 2 ** i)));
    }
  }

  return {
    /**
     * Make the host able to retrieve the password. Hosts mode: the computer is already a principal on the gMSA.
     * Group mode: add the computer to the group, then purge its Kerberos tickets (`klist -li 0x3e7 purge`) so
     * its new TGT carries the group. Proof: Test-ADServiceAccount on the host. Not usable yet is retryable: the
     * change may still be on its way to the host's site DC.
     */
    async authorizeHost(input: AuthorizeHostInput): Promise<{ addedToGroup: boolean }> {
      return typed(async () => {
        let addedToGroup = false;
        if (input.group) {
          const members = await dir.getGroupMembers(input.dc, input.group);
          if (!members.some((m) => m.toLowerCase() === input.computerSam.toLowerCase())) {
            await dir.addGroupMember(input.dc, input.group, input.computerSam);
            addedToGroup = true;
          }
        }
        if (await hosts.testServiceAccount(input.host, input.gmsaName)) return { addedToGroup };
        if (input.group) {
          await hosts.purgeKerberosTickets(input.host);
          if (await hosts.testServiceAccount(input.host, input.gmsaName)) return { addedToGroup };
        }
        throw stepFailure(
          FailureType.GmsaNotUsableYet,
          `${input.host} cannot retrieve the password of ${input.gmsaName} yet (Test-ADServiceAccount is False)`,
        );
      });
    },

    /** Undo of authorizeHost in group mode: take the computer out of the group again and refresh its tickets. */
    async deauthorizeHost(input: DeauthorizeHostInput): Promise<void> {
      return typed(async () => {
        const members = await dir.getGroupMembers(input.dc, input.group);
        if (members.some((m) => m.toLowerCase() === input.computerSam.toLowerCase())) {
          await dir.removeGroupMember(input.dc, input.group, input.computerSam);
        }
        await hosts.purgeKerberosTickets(input.host);
      });
    },

    /** Register-PSSessionConfiguration, detached, then watch until Get-PSSessionConfiguration shows the gMSA. */
    async registerEndpoint(input: RegisterEndpointInput): Promise<{ groupManagedServiceAccount: string }> {
      return typed(async () => {
        const { host, configuration: cfg, mark } = input;
        let started = false;
        return pollHost(`register ${cfg.name} on ${host}`, async () => {
          const current = await hosts.getSessionConfiguration(host, cfg.name);
          if (current) {
            if (!carriesMark(current.description, mark)) {
              throw stepFailure(
                FailureType.EndpointConflict,
                `${host}: endpoint ${cfg.name} was registered by someone else during the run; it is left alone`,
              );
            }
            if (
              current.runAsVirtualAccount ||
              !sameAccount(current.groupManagedServiceAccount, cfg.groupManagedServiceAccount)
            ) {
              throw stepFailure(
                FailureType.VirtualAccountIdentity,
                `${host}: endpoint ${cfg.name} is registered but runs as ${current.groupManagedServiceAccount ?? 'a virtual account'}`,
              );
            }
            return { groupManagedServiceAccount: current.groupManagedServiceAccount ?? '' };
          }
          if (!started) {
            await hosts.startRegistration(host, cfg);
            started = true;
          }
          return undefined;
        });
      });
    },

    /**
     * Undo of registerEndpoint: unregister only an endpoint carrying this run's mark. Asking to unregister even
     * when none is visible yet catches a registration of ours that is still running (the host answers
     * RegistrationInProgress until it has finished, and then we remove it).
     */
    async unregisterEndpointIfOurs(ref: EndpointRef): Promise<{ removed: boolean }> {
      return typed(async () => {
        let requested = false;
        return pollHost(`unregister ${ref.name} on ${ref.host}`, async () => {
          const current = await hosts.getSessionConfiguration(ref.host, ref.name);
          if (current && !carriesMark(current.description, ref.mark)) return { removed: false };
          if (!current && requested) return { removed: true };
          try {
            await hosts.startUnregistration(ref.host, ref.name);
            requested = true;
          } catch (err) {
            if (err instanceof BackendError && err.type === FailureType.ObjectNotFound) return { removed: requested };
            throw err;
          }
          return undefined;
        });
      });
    },

    /**
     * The proof: connect through the endpoint and ask who the session runs as. A virtual account means the
     * endpoint does not run as the gMSA at all, which no retry will change.
     */
    async verifyIdentity(input: VerifyIdentityInput): Promise<{ identity: string }> {
      return typed(async () => {
        const identity = await hosts.invokeIdentityProbe(input.host, input.endpoint, IDENTITY_PROBE_FUNCTION);
        if (/^WinRM Virtual Users\\/i.test(identity)) {
          throw stepFailure(
            FailureType.VirtualAccountIdentity,
            `${input.host}: endpoint ${input.endpoint} runs as the virtual account ${identity}, not ${input.expectedIdentity}`,
            { identity },
          );
        }
        if (identity.toLowerCase() !== input.expectedIdentity.toLowerCase()) {
          throw stepFailure(
            FailureType.IdentityMismatch,
            `${input.host}: endpoint ${input.endpoint} runs as ${identity}, expected ${input.expectedIdentity}`,
            { identity },
          );
        }
        return { identity };
      });
    },
  };
}
