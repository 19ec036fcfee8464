export { ldapConfigFromEnv, type LdapConfig } from './config';
export { LdapDirectory } from './directory';
