/**
 * The files as they are now: each one's content hash, read only when its stat signature (size,
 * mtime, inode, ctime) differs from the one recorded at the last sync. Like git's index, a file
 * modified within the clock's granularity of being recorded could keep its signature, so a
 * signature is recorded only for files last changed more than RACY_MS before the sync started:
 * the others are read again next time.
 */
import { closeSync, fstatSync, openSync, readSync, statSync, type Stats } from "node:fs";
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
  // Millisecond times with their fraction: bigint nanoseconds cost twice as much to stat.
  const signatureOf = (st: Stats) => (st.mtimeMs >= trustBefore || st.ctimeMs >= trustBefore ? null : `${st.size}:${st.mtimeMs}:${st.ino}:${st.ctimeMs}`);
  for (const f of listed) {
    let fd: number | undefined;
    try {
      const known = index.get(f.path);
      if (known !== undefined && known.statSignature !== null && signatureOf(statSync(f.absolutePath)) === known.statSignature) {
        current.set(f.path, { hash: known.hash, statSignature: known.statSignature });
        continue;
      }
      // To be read: one open, then the stat and the bytes of that open file (a first sync reads
      // every file; a stat by path and readFileSync made five system calls a file, a third more time).
      fd = openSync(f.absolutePath, "r");
      const st = fstatSync(fd);
      const signature = signatureOf(st);
      const bytes = readOpenFile(fd, st);
      current.set(f.path, { hash: hashBytes(bytes), bytes, statSignature: signature });
    } catch {
      // Gone or unreadable since it was listed: the loader reports it as a problem of that file.
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  }
  return current;
}

/** The whole file from an open descriptor: its stat's size first, then on to the end if it grew. */
function readOpenFile(fd: number, st: Stats): Uint8Array {
  let buffer = Buffer.allocUnsafe(st.size + 1);
  let length = 0;
  for (;;) {
    if (length === buffer.length) {
      const larger = Buffer.allocUnsafe(buffer.length * 2);
      buffer.copy(larger, 0, 0, length);
      buffer = larger;
    }
    const read = readSync(fd, buffer, length, buffer.length - length, null);
    if (read === 0) return buffer.subarray(0, length);
    length += read;
  }
}
