/**
 * Read-only verification of a provisioned target (see runbook/verify.ts). These activities report what they see
 * and never throw for it: a missing gMSA, a virtual-account endpoint or a DC that does not answer is a check with
 * status drift or unreachable, not a failure. Only the unexpected (a bug, the backend itself gone:
 * BackendUnavailable) throws, and Temporal retries that.
 */
import { BackendError } from '../backends/errors';
import type { Backend, DomainController } from '../backends/ports';
import { FailureType } from '../runbook/failures';
import { kdsReadyAt, kdsRootKeyUsable } from '../runbook/kds';
import { IDENTITY_PROBE_FUNCTION, sameAccount } from '../runbook/session-configuration';
import type { DriftCheck, DriftCheckName, VerifyTarget } from '../runbook/verify';
import { typed } from './failures';

/** Failures that mean "could not look", as opposed to "looked and found something wrong". */
const UNREACHABLE: ReadonlySet<string> = new Set([
  FailureType.ServerDown,
  FailureType.HostUnreachable,
  FailureType.WinRmTransport,
]);

function isUnreachable(err: unknown): err is BackendError {
  return err instanceof BackendError && UNREACHABLE.has(err.type);
}

function unreachable(check: DriftCheckName, target: string, expected: string, err: BackendError): DriftCheck {
  return { check, target, status: 'unreachable', expected, observed: `${err.type}: ${err.message}` };
}

const eqi = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

export function createVerifyActivities(backend: Backend) {
  const { directory, hosts } = backend;

  /**
   * The DCs whose copy matters. Provisioning with scope host-sites only waited for the hosts' site DCs, so a DC
   * elsewhere may lag without anything being wrong; hosts that cannot be reached contribute no site (their own
   * checks report them unreachable), and when no site is known at all every DC is checked rather than none.
   */
  async function dcsInScope(target: VerifyTarget, all: DomainController[]): Promise<DomainController[]> {
    if (target.replicationScope === 'all') return all;
    const sites = new Set<string>();
    await Promise.all(
      target.hosts.map(async (host) => {
        try {
          sites.add((await hosts.probeHost(host)).site.toLowerCase());
        } catch (err) {
          if (!(err instanceof BackendError)) throw err;
        }
      }),
    );
    const inSites = all.filter((dc) => sites.has(dc.site.toLowerCase()));
    return inSites.length > 0 ? inSites : all;
  }

  async function checkKds(target: VerifyTarget, dcs: DomainController[]): Promise<DriftCheck> {
    const expected = 'a KDS root key effective at least 10 h ago';
    let lastErr: BackendError | undefined;
    // The keys live in the configuration partition, the same on every DC: the first DC that answers will do.
    for (const dc of dcs) {
      try {
        const keys = await directory.getKdsRootKeys(dc.hostName);
        const usable = keys.find((k) => kdsRootKeyUsable(k, Date.now()));
        if (usable) {
          return {
            check: 'kds-root-key',
            target: target.domain.dns,
            status: 'ok',
            expected,
            observed: `key ${usable.keyId} effective ${usable.effectiveTime}`,
          };
        }
        const readyAt = kdsReadyAt(keys);
        return {
          check: 'kds-root-key',
          target: target.domain.dns,
          status: 'drift',
          expected,
          observed: readyAt ? `no usable key yet (first usable at ${readyAt})` : 'no KDS root key',
        };
      } catch (err) {
        if (!isUnreachable(err)) throw err;
        lastErr = err;
      }
    }
    const err = lastErr ?? new BackendError(FailureType.ServerDown, 'no domain controller to ask');
    return unreachable('kds-root-key', target.domain.dns, expected, err);
  }

  async function checkDc(target: VerifyTarget, dc: string): Promise<DriftCheck[]> {
    const sam = `${target.gmsaName}$`;
    const expectedPrincipals = [...target.expectedPrincipals].sort().join(', ');
    try {
      const sa = await directory.getServiceAccount(dc, target.gmsaName);
      if (!sa) {
        // Without the object its principals cannot be checked; one drift for one cause.
        return [{ check: 'gmsa-on-dc', target: dc, status: 'drift', expected: `${sam} present`, observed: 'absent' }];
      }
      const missing = target.expectedPrincipals.filter((p) => !sa.principals.some((q) => eqi(p, q)));
      return [
        {
          check: 'gmsa-on-dc',
          target: dc,
          status: 'ok',
          expected: `${sam} present`,
          observed: `present (${sa.objectGuid})`,
        },
        {
          check: 'principals-on-dc',
          target: dc,
          status: missing.length === 0 ? 'ok' : 'drift',
          expected: `contains ${expectedPrincipals}`,
          observed:
            (sa.principals.length ? [...sa.principals].sort().join(', ') : '(none)') +
            (missing.length ? `; missing ${missing.join(', ')}` : ''),
        },
      ];
    } catch (err) {
      if (!isUnreachable(err)) throw err;
      return [
        unreachable('gmsa-on-dc', dc, `${sam} present`, err),
        unreachable('principals-on-dc', dc, `contains ${expectedPrincipals}`, err),
      ];
    }
  }

  return {
    async verifyDirectory(target: VerifyTarget): Promise<DriftCheck[]> {
      return typed(async () => {
        const dcs = await dcsInScope(target, await directory.listDomainControllers());
        const [kds, ...perDc] = await Promise.all([
          checkKds(target, dcs),
          ...dcs.map((dc) => checkDc(target, dc.hostName)),
        ]);
        return [kds, ...perDc.flat()];
      });
    },

    async verifyHost(input: { target: VerifyTarget; host: string }): Promise<DriftCheck[]> {
      return typed(async () => {
        const { target, host } = input;
        const account = `${target.domain.netbios}\\${target.gmsaName}`;
        const endpointExpected = `${target.endpointName} registered, runs as ${account} (not a virtual account)`;
        const identityExpected = `${account}$`;
        let endpoint: DriftCheck;
        try {
          const config = await hosts.getSessionConfiguration(host, target.endpointName);
          const ok = !!config && !config.runAsVirtualAccount && sameAccount(config.groupManagedServiceAccount, account);
          endpoint = {
            check: 'endpoint',
            target: host,
            status: ok ? 'ok' : 'drift',
            expected: endpointExpected,
            observed: !config
              ? 'not registered'
              : config.runAsVirtualAccount
                ? 'runs as a virtual account'
                : `gMSA ${config.groupManagedServiceAccount ?? '(none)'}`,
          };
        } catch (err) {
          if (!isUnreachable(err)) throw err;
          // The identity probe goes over the same WinRM: it cannot be reached either.
          return [
            unreachable('endpoint', host, endpointExpected, err),
            unreachable('identity', host, identityExpected, err),
          ];
        }
        let identity: DriftCheck;
        try {
          const observed = await hosts.invokeIdentityProbe(host, target.endpointName, IDENTITY_PROBE_FUNCTION);
          // A `WinRM Virtual Users\...` identity never matches `DOMAIN\name$`, so it is drift like any other.
          identity = {
            check: 'identity',
            target: host,
            status: eqi(observed, identityExpected) ? 'ok' : 'drift',
            expected: identityExpected,
            observed,
          };
        } catch (err) {
          if (isUnreachable(err)) {
            identity = unreachable('identity', host, identityExpected, err);
          } else if (err instanceof BackendError && err.type !== FailureType.BackendUnavailable) {
            // The host answered and the session could not start as the gMSA (password not retrievable, no
            // endpoint, no probe): that is what drift looks like from the host.
            identity = {
              check: 'identity',
              target: host,
              status: 'drift',
              expected: identityExpected,
              observed: `${err.type}: ${err.message}`,
            };
          } else {
            throw err;
          }
        }
        return [endpoint, identity];
      });
    },
  };
}
