/**
 * The KDS root key readiness rule. DCs refuse to compute gMSA passwords from a key until 10 hours after its
 * EffectiveTime, so that every DC has replicated it; `-EffectiveImmediately` does not remove the wait
 * (domain.md §0.5, §1.1). Both the lab and preflight use this one rule.
 */
export const KDS_ROOT_KEY_CONVERGENCE_MS = 10 * 60 * 60 * 1000;

export interface KdsRootKey {
  keyId: string;
  /** ISO 8601. */
  effectiveTime: string;
}

export function kdsRootKeyUsable(key: KdsRootKey, nowMs: number): boolean {
  return Date.parse(key.effectiveTime) + KDS_ROOT_KEY_CONVERGENCE_MS <= nowMs;
}

/** When the first key becomes usable (ISO), or null when there is no key at all. */
export function kdsReadyAt(keys: readonly KdsRootKey[]): string | null {
  if (keys.length === 0) return null;
  const earliest = Math.min(...keys.map((k) => Date.parse(k.effectiveTime)));
  return new Date(earliest + KDS_ROOT_KEY_CONVERGENCE_MS).toISOString();
}
