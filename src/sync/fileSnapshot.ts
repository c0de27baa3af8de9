/**
 * The files as they are now: each one's content hash, read only when its stat signature (size,
 * mtime, inode, ctime) differs from the one recorded at the last sync. Like git's index, a file
 * modified within the clock's granularity of being recorded could keep its signature, so a
 * signature is recorded only for files last changed more than RACY_MS before the sync started:
 * the others are read again next time.
 */
import { readFileSync, statSync } from "node:fs";
import { hashBytes } from "../spec/specFile.js";
import type { SpecTreeFile } from "../spec/specTree.js";
import type { FileIndexEntry } from "../store/types.js";

const RACY_MS = 2000;

export interface CurrentFile {
  hash: string;
  /** The bytes, when the file had to be read. */
  bytes?: Uint8Array;
  /** The signature to record, or null when the file changed too recently to trust one. */
  statSignature: string | null;
}

export function snapshotFiles(listed: readonly SpecTreeFile[], index: ReadonlyMap<string, FileIndexEntry>, startedAt: Date): Map<string, CurrentFile> {
  const trustBefore = startedAt.getTime() - RACY_MS;
  const current = new Map<string, CurrentFile>();
  for (const f of listed) {
    try {
      // Millisecond times with their fraction: bigint nanoseconds cost twice as much to stat.
      const st = statSync(f.absolutePath);
      const racy = st.mtimeMs >= trustBefore || st.ctimeMs >= trustBefore;
      const signature = racy ? null : `${st.size}:${st.mtimeMs}:${st.ino}:${st.ctimeMs}`;
      const known = index.get(f.path);
      if (signature !== null && known?.statSignature === signature) {
        current.set(f.path, { hash: known.hash, statSignature: signature });
        continue;
      }
      const bytes = readFileSync(f.absolutePath);
      current.set(f.path, { hash: hashBytes(bytes), bytes, statSignature: signature });
    } catch {
      // Gone or unreadable since it was listed: the loader reports it as a problem of that file.
    }
  }
  return current;
}
