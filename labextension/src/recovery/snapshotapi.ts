/**
 * The snapshots API: unsaved buffers kept by the coordinator until saved
 * (`PUT/GET/DELETE workspace/api/snapshots`).
 */
import { requestAPI } from '../common/request';

export type SnapshotKind = 'file' | 'notebook' | 'note';

/** A stored snapshot without its content, as listed. */
export interface ISnapshot {
  id: number;
  path: string;
  kind: SnapshotKind;
  /** The tab that sent it. */
  client: string;
  /** UTF-8 bytes of the content. */
  size: number;
  /** When it was stored (ISO 8601, UTC). */
  created: string;
  content_hash: string;
  base_hash: string | null;
  base_mtime: number | null;
}

/** The document on disk now, as the server sees it. */
export interface IDiskState {
  exists: boolean;
  hash: string | null;
  /** Seconds since 1970 (a note: null). */
  mtime: number | null;
  /** The file is no longer the one the buffer was based on. */
  changed_since_base: boolean;
  /** The snapshot equals the document on disk: nothing to recover. */
  same_as_disk: boolean;
}

export interface IListedSnapshot extends ISnapshot {
  /** The tab that sent it is open now: its buffer is live, not lost. */
  live: boolean;
  disk: IDiskState;
}

export interface IFullSnapshot extends ISnapshot {
  content: string;
  /** With the file's text now (null: missing, binary or too large). */
  disk: IDiskState & { text: string | null };
}

export interface ISnapshotBody {
  path: string;
  kind: SnapshotKind;
  content: string;
  base_hash: string | null;
  base_mtime: number | null;
  client: string;
}

/** 201: stored; 200: unchanged or equal to disk (`saved`: this tab's dropped). */
export type PutAnswer =
  ISnapshot | { unchanged: true } | { saved: true; deleted: number };

/** Bodies from this size up are sent gzipped (a notebook's JSON shrinks 1.4–10×). */
const COMPRESS_FROM = 16 * 1024;

/**
 * The gzip runs in a worker: in the page, `CompressionStream` held the main
 * thread ~45 ms per 1 MB snapshot, and keys typed then waited (bench_snapshots).
 */
const GZIP_WORKER = `
onmessage = async event => {
  const { id, text } = event.data;
  try {
    const stream = new Blob([text]).stream().pipeThrough(new CompressionStream('gzip'));
    const buffer = await new Response(stream).arrayBuffer();
    postMessage({ id, buffer }, [buffer]);
  } catch (error) {
    postMessage({ id, buffer: null });
  }
};
`;

/** `undefined`: not started yet; `null`: none (no Worker or CompressionStream, or it failed). */
let gzipWorker: Worker | null | undefined;
const waiting = new Map<number, (buffer: ArrayBuffer | null) => void>();
let nextJob = 0;

function startWorker(): Worker | null {
  if (gzipWorker !== undefined) {
    return gzipWorker;
  }
  gzipWorker = null;
  if (
    typeof Worker === 'undefined' ||
    typeof CompressionStream === 'undefined'
  ) {
    return null;
  }
  try {
    const url = URL.createObjectURL(
      new Blob([GZIP_WORKER], { type: 'text/javascript' })
    );
    const worker = new Worker(url);
    URL.revokeObjectURL(url);
    worker.onmessage = (event: MessageEvent) => {
      const { id, buffer } = event.data as {
        id: number;
        buffer: ArrayBuffer | null;
      };
      waiting.get(id)?.(buffer);
      waiting.delete(id);
    };
    worker.onerror = () => {
      // e.g. a Content-Security-Policy without blob: workers: send plain JSON
      worker.terminate();
      gzipWorker = null;
      waiting.forEach(done => done(null));
      waiting.clear();
    };
    gzipWorker = worker;
  } catch {
    gzipWorker = null;
  }
  return gzipWorker;
}

function gzipped(text: string): Promise<ArrayBuffer | null> {
  const worker = startWorker();
  if (!worker) {
    return Promise.resolve(null);
  }
  return new Promise(resolve => {
    const id = nextJob++;
    waiting.set(id, resolve);
    worker.postMessage({ id, text });
  });
}

export async function putSnapshot(
  body: ISnapshotBody,
  init: RequestInit = {}
): Promise<PutAnswer> {
  const json = JSON.stringify(body);
  // Not while the page unloads: the request must leave before any await.
  const packed =
    json.length >= COMPRESS_FROM && !init.keepalive
      ? await gzipped(json)
      : null;
  if (packed) {
    return requestAPI<PutAnswer>('snapshots', {
      ...init,
      method: 'PUT',
      body: packed,
      headers: {
        'Content-Type': 'application/json',
        'Content-Encoding': 'gzip'
      }
    });
  }
  return requestAPI<PutAnswer>('snapshots', {
    ...init,
    method: 'PUT',
    body: json
  });
}

export async function listSnapshots(path?: string): Promise<IListedSnapshot[]> {
  const query = path === undefined ? '' : `?path=${encodeURIComponent(path)}`;
  const data = await requestAPI<{ snapshots: IListedSnapshot[] }>(
    `snapshots${query}`
  );
  return data.snapshots;
}

export function getSnapshot(id: number): Promise<IFullSnapshot> {
  return requestAPI<IFullSnapshot>(`snapshots/${id}`);
}

/** Discard a snapshot and the older versions of it from the same tab. */
export async function discardSnapshot(id: number): Promise<void> {
  await requestAPI<void>(`snapshots/${id}`, { method: 'DELETE' });
}

/**
 * Whether a listed snapshot holds work the document on disk lacks, and was
 * not sent by this page (its own live buffer is not "lost").
 */
export function isRecoverable(
  snapshot: IListedSnapshot,
  ownIds: ReadonlySet<number>
): boolean {
  return !snapshot.disk.same_as_disk && !ownIds.has(snapshot.id);
}

/** A short label for the tab that sent a snapshot. */
export function tabLabel(client: string): string {
  return client.slice(0, 8);
}
