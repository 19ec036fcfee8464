/**
 * The binary forms Active Directory stores, and their text forms: SIDs, objectGUIDs, FILETIME large integers, and
 * the self-relative security descriptor of msDS-GroupMSAMembership (who may retrieve a gMSA's password).
 * References: MS-DTYP §2.4.2 (SID), §2.4.6 (SECURITY_DESCRIPTOR), §2.4.5 (ACL), §2.4.4.2 (ACCESS_ALLOWED_ACE).
 */

/** `S-1-5-21-…` from its binary form. */
export function sidToString(buf: Buffer): string {
  const revision = buf[0];
  const count = buf[1];
  const authority = buf.readUIntBE(2, 6);
  const subs: number[] = [];
  for (let i = 0; i < count; i++) subs.push(buf.readUInt32LE(8 + 4 * i));
  return `S-${revision}-${authority}${subs.map((s) => `-${s}`).join('')}`;
}

export function sidToBuffer(sid: string): Buffer {
  const parts = sid.split('-');
  if (parts[0] !== 'S' || parts.length < 3) throw new Error(`not a SID: ${sid}`);
  const subs = parts.slice(3).map(Number);
  const buf = Buffer.alloc(8 + 4 * subs.length);
  buf[0] = Number(parts[1]);
  buf[1] = subs.length;
  buf.writeUIntBE(Number(parts[2]), 2, 6);
  subs.forEach((s, i) => buf.writeUInt32LE(s, 8 + 4 * i));
  return buf;
}

/** objectGUID bytes → the usual text form (the first three fields are little-endian). */
export function guidToString(buf: Buffer): string {
  const hex = (b: Buffer) => b.toString('hex');
  const le = (start: number, end: number) => hex(Buffer.from(buf.subarray(start, end)).reverse());
  return `${le(0, 4)}-${le(4, 6)}-${le(6, 8)}-${hex(buf.subarray(8, 10))}-${hex(buf.subarray(10, 16))}`;
}

export function guidToBuffer(guid: string): Buffer {
  const h = guid.replace(/-/g, '');
  if (!/^[0-9a-fA-F]{32}$/.test(h)) throw new Error(`not a GUID: ${guid}`);
  const b = Buffer.from(h, 'hex');
  return Buffer.concat([
    Buffer.from(b.subarray(0, 4)).reverse(),
    Buffer.from(b.subarray(4, 6)).reverse(),
    Buffer.from(b.subarray(6, 8)).reverse(),
    b.subarray(8),
  ]);
}

const FILETIME_EPOCH_OFFSET_MS = 11_644_473_600_000n;

/** A FILETIME (100 ns ticks since 1601, as a decimal string) → ISO time. */
export function fileTimeToIso(value: string): string {
  const ms = BigInt(value) / 10_000n - FILETIME_EPOCH_OFFSET_MS;
  return new Date(Number(ms)).toISOString();
}

export function isoToFileTime(iso: string): string {
  return ((BigInt(Date.parse(iso)) + FILETIME_EPOCH_OFFSET_MS) * 10_000n).toString();
}

/** What Windows writes for PrincipalsAllowedToRetrieveManagedPassword: full control for each principal. */
export const GMSA_RETRIEVE_MASK = 0x000f01ff;
const ACCESS_ALLOWED_ACE_TYPE = 0;
const SE_DACL_PRESENT = 0x0004;
const SE_SELF_RELATIVE = 0x8000;
const OWNER_LOCAL_SYSTEM = 'S-1-5-18';

/** `O:SYD:(A;;0xF01FF;;;<sid>)…` as a self-relative security descriptor. */
export function buildGroupMsaMembership(sids: string[]): Buffer {
  const owner = sidToBuffer(OWNER_LOCAL_SYSTEM);
  const aces = sids.map((sid) => {
    const s = sidToBuffer(sid);
    const ace = Buffer.alloc(8 + s.length);
    ace[0] = ACCESS_ALLOWED_ACE_TYPE;
    ace[1] = 0;
    ace.writeUInt16LE(ace.length, 2);
    ace.writeUInt32LE(GMSA_RETRIEVE_MASK, 4);
    s.copy(ace, 8);
    return ace;
  });
  const aclBody = Buffer.concat(aces);
  const acl = Buffer.alloc(8);
  acl[0] = 2; // ACL_REVISION
  acl.writeUInt16LE(8 + aclBody.length, 2);
  acl.writeUInt16LE(aces.length, 4);
  const header = Buffer.alloc(20);
  header[0] = 1; // revision
  header.writeUInt16LE(SE_SELF_RELATIVE | SE_DACL_PRESENT, 2);
  header.writeUInt32LE(20, 4); // owner right after the header
  header.writeUInt32LE(20 + owner.length, 16); // DACL after the owner
  return Buffer.concat([header, owner, acl, aclBody]);
}

/** The SIDs granted by access-allowed ACEs in a self-relative security descriptor's DACL. */
export function readGroupMsaMembership(sd: Buffer): string[] {
  if (sd.length < 20) return [];
  const daclOffset = sd.readUInt32LE(16);
  if (daclOffset === 0) return [];
  const aceCount = sd.readUInt16LE(daclOffset + 4);
  const sids: string[] = [];
  let at = daclOffset + 8;
  for (let i = 0; i < aceCount; i++) {
    const type = sd[at];
    const size = sd.readUInt16LE(at + 2);
    if (type === ACCESS_ALLOWED_ACE_TYPE) {
      const sidStart = at + 8;
      const subCount = sd[sidStart + 1];
      sids.push(sidToString(sd.subarray(sidStart, sidStart + 8 + 4 * subCount)));
    }
    at += size;
  }
  return sids;
}

/** msDS-SupportedEncryptionTypes bits (MS-KILE §2.2.7). */
const ENCRYPTION_BITS: Record<string, number> = { RC4: 0x4, AES128: 0x8, AES256: 0x10 };

export function encryptionTypesToBits(types: string[]): number {
  return types.reduce((bits, t) => bits | (ENCRYPTION_BITS[t] ?? 0), 0);
}

export function bitsToEncryptionTypes(bits: number): string[] {
  return ['AES128', 'AES256', 'RC4'].filter((t) => (bits & ENCRYPTION_BITS[t]) !== 0);
}
