/** How tests point the ldap backend at the Samba test forest: the same settings a worker reads from GMSA_LDAP_*. */
import { readFileSync } from 'node:fs';
import { ldapConfigFromEnv, type LdapConfig } from '../backends/ldap';
import type { SambaForest } from './forest';

/** The worker's environment for this forest (a password in the environment, never in workflow arguments). */
export function ldapEnvFor(forest: SambaForest): NodeJS.ProcessEnv {
  return {
    GMSA_LDAP_URL: `ldaps://${forest.dcs[0].hostName}:636`,
    GMSA_LDAP_BIND_USER: forest.adminUser,
    GMSA_LDAP_BIND_PASSWORD: forest.adminPassword,
    GMSA_LDAP_CA_FILE: forest.caFile,
    // The DCs' names resolve nowhere but in their certificates: dial the loopback addresses, check the names.
    GMSA_LDAP_DC_ADDRESSES: forest.dcs.map((dc) => `${dc.hostName}=${dc.address}`).join(','),
    GMSA_LDAP_TIMEOUT_MS: '5000',
  };
}

export function ldapConfigFor(forest: SambaForest): LdapConfig {
  const config = ldapConfigFromEnv(ldapEnvFor(forest));
  return { ...config, ca: readFileSync(forest.caFile) };
}
