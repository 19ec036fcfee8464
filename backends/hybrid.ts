/**
 * The hybrid backend: a real directory over LDAPS (Samba or Windows AD) and the lab's simulated hosts. The lab
 * must be started with the same directory (`--directory ldap`), so its hosts ask that directory for passwords.
 */
import { createLabBackend } from './lab/client';
import { LdapDirectory, type LdapConfig } from './ldap';
import type { Backend } from './ports';

export function createHybridBackend(opts: { ldap: LdapConfig; labUrl: string }): Backend {
  const directory = new LdapDirectory(opts.ldap);
  const lab = createLabBackend(opts.labUrl);
  return {
    kind: 'hybrid',
    directory,
    hosts: lab.hosts,
    close: () => directory.close(),
  };
}
