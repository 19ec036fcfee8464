/**
 * The lab's state on disk: one JSON file, replaced atomically (write a temp file, then rename) after every
 * mutation, so a crash or kill never leaves half a state and a new lab process resumes exactly where this one was.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { LabState, LabStateStore } from './state';

export class LabFileStore implements LabStateStore {
  private seq = 0;

  constructor(readonly path: string) {}

  /** The saved state, or null when there is no file yet. A file of another schema is refused, not overwritten. */
  load(): LabState | null {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
    const parsed = JSON.parse(text) as Partial<LabState>;
    if (parsed.schema !== 1) throw new Error(`${this.path} is not a lab state file (schema ${String(parsed.schema)})`);
    return parsed as LabState;
  }

  save(state: LabState): void {
    mkdirSync(dirname(this.path), { recursive: true });
    // Unique temp name per write: two labs on one file must not rename each other's half-written temp.
    const tmp = `${this.path}.${process.pid}.${this.seq++}.tmp`;
    writeFileSync(tmp, JSON.stringify(state));
    renameSync(tmp, this.path);
  }
}
