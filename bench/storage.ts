import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

export interface StorageFigures {
  /** Durable Objects of the class found on disk (Miniflare keeps one SQLite file per object). */
  objects: number;
  /** Size on disk of the objects' SQLite files (database + WAL), per object. */
  file_bytes_per_object: number;
  /**
   * Bytes of keys and values stored per object (`_cf_KV`, where `ctx.storage.put` goes), read with the
   * sqlite3 CLI; null when the CLI is not installed.
   */
  stored_bytes_per_object: number | null;
  note: string;
}

/** The SQLite files of every object of `className` under Miniflare's DO persist directory. */
function objectDatabases(persistDir: string, className: string): string[] {
  const dir = readdirSync(persistDir).find((d) => d.endsWith(`-${className}`) || d === className);
  if (!dir) return [];
  const full = join(persistDir, dir);
  return readdirSync(full)
    .filter((f) => f.endsWith('.sqlite') && f !== 'metadata.sqlite')
    .map((f) => join(full, f));
}

function hasSqliteCli(): boolean {
  return spawnSync('sqlite3', ['-version'], { encoding: 'utf8' }).status === 0;
}

/**
 * How much a Durable Object class stores per object. Two readings, because they answer different
 * questions: the file size is what Miniflare uses locally (page-granular, 4 KiB pages, plus SQLite's
 * own tables), while the stored key+value bytes are close to what Cloudflare bills for SQLite-backed
 * objects (the stored rows), and do not depend on page size or on when WAL checkpoints happen.
 */
export function measureObjectStorage(persistDir: string, className: string): StorageFigures {
  const files = objectDatabases(persistDir, className);
  let fileBytes = 0;
  for (const file of files) {
    for (const suffix of ['', '-wal']) {
      if (existsSync(file + suffix)) fileBytes += statSync(file + suffix).size;
    }
  }
  let stored: number | null = null;
  if (files.length > 0 && hasSqliteCli()) {
    stored = 0;
    for (const file of files) {
      const out = spawnSync('sqlite3', ['-readonly', file, 'SELECT COALESCE(SUM(LENGTH(key) + LENGTH(value)), 0) FROM _cf_KV;'], {
        encoding: 'utf8',
      });
      stored += Number(out.stdout.trim()) || 0;
    }
  }
  const count = Math.max(1, files.length);
  return {
    objects: files.length,
    file_bytes_per_object: fileBytes / count,
    stored_bytes_per_object: stored === null ? null : stored / count,
    note:
      stored === null
        ? 'sqlite3 CLI not found: only the on-disk size was measured'
        : 'stored = keys + values in _cf_KV (the task record); file = SQLite database + WAL on disk',
  };
}
