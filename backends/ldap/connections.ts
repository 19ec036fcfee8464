/**
 * One bound LDAPS connection per DC, opened on first use and dropped when it fails (the next call reconnects).
 * Every write and every read-after-write names its DC: that is how the run's pinned DC is honoured.
 */
import { Client, ResultCodeError } from 'ldapts';
import type { LdapConfig } from './config';
import { toBackendError } from './errors';

/** LDAP operationsError: what an unauthenticated (silently reconnected) connection gets back. */
const OPERATIONS_ERROR = 1;

export class DcConnections {
  private readonly clients = new Map<string, Promise<Client>>();

  constructor(private readonly config: LdapConfig) {}

  /** The seed DC's host name, from GMSA_LDAP_URL. */
  get seedDc(): string {
    return new URL(this.config.url).hostname.toLowerCase();
  }

  private url(dc: string): string {
    const seed = new URL(this.config.url);
    const host = this.config.addresses[dc.toLowerCase()] ?? dc;
    return `ldaps://${host}:${seed.port || '636'}`;
  }

  private async connect(dc: string): Promise<Client> {
    const client = new Client({
      url: this.url(dc),
      timeout: this.config.timeoutMs,
      connectTimeout: this.config.timeoutMs,
      // The certificate is checked against the DC's name even when we dial its address.
      tlsOptions: { ca: this.config.ca ? [this.config.ca] : undefined, servername: dc },
    });
    await client.bind(this.config.bindUser, this.config.bindPassword);
    return client;
  }

  /** Run `fn` on the DC's connection; any failure comes out as a BackendError, and a broken connection is dropped. */
  async use<T>(dc: string, what: string, fn: (client: Client) => Promise<T>): Promise<T> {
    const key = dc.toLowerCase();
    let client = await this.bound(key, dc, what);
    // ldapts quietly reconnects a closed socket on the next request, but unauthenticated: a DC that restarted
    // would then answer every search with "operation unavailable without authentication". Rebind instead.
    if (!client.isConnected) {
      this.drop(key, client);
      client = await this.bound(key, dc, what);
    }
    try {
      return await fn(client);
    } catch (err) {
      const mapped = toBackendError(err, dc, what);
      const directoryAnswered = err instanceof ResultCodeError && err.code !== OPERATIONS_ERROR;
      if (!directoryAnswered || !client.isConnected) this.drop(key, client);
      throw mapped;
    }
  }

  private async bound(key: string, dc: string, what: string): Promise<Client> {
    let pending = this.clients.get(key);
    if (!pending) {
      pending = this.connect(key);
      this.clients.set(key, pending);
    }
    try {
      return await pending;
    } catch (err) {
      this.clients.delete(key);
      throw toBackendError(err, dc, `bind for ${what}`);
    }
  }

  private drop(key: string, client: Client): void {
    this.clients.delete(key);
    client.unbind().catch(() => undefined);
  }

  async closeAll(): Promise<void> {
    const all = [...this.clients.values()];
    this.clients.clear();
    await Promise.all(all.map((p) => p.then((c) => c.unbind()).catch(() => undefined)));
  }
}
