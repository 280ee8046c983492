/**
 * Sends an open document's unsaved buffer to the coordinator shortly after
 * each edit, so a crash of the page, the browser or the server loses at most
 * the last second of typing.
 */
import { DocumentRegistry } from '@jupyterlab/docregistry';
import { IDisposable } from '@lumino/disposable';

import { CLIENT_ID, WorkspaceRequestError } from '../common/request';
import { SnapshotKind, discardSnapshot, putSnapshot } from './snapshotapi';

/** When snapshots are taken; read at every edit, so a settings change applies at once. */
export interface ISnapshotPolicy {
  /** Quiet milliseconds after the last edit; 0: no snapshots. */
  delay: number;
  /** At most this many milliseconds between snapshots while edits keep coming. */
  maxWait: number;
  /** The server's cap on a document (UTF-8 bytes); 0 while unknown. */
  maxBytes: number;
}

/** What the snapshotter tells the page about. */
export interface ISnapshotNotices {
  /** The document grew over the cap: its last snapshot that fit is kept. */
  tooLarge(path: string, bytes: number, cap: number): void;
  /** The server refused the document for good (hidden, secret, ignored). */
  refused(path: string, message: string): void;
}

/** After a failure the server may recover from (503, network), try again after this. */
const RETRY_MS = 5000;

/** The biggest body `fetch(..., {keepalive})` may carry while a page unloads. */
const KEEPALIVE_BYTES = 60 * 1024;

const encoder = new TextEncoder();

/**
 * The UTF-8 size of a text, or a bound of it that is enough to compare with
 * `limit`: a UTF-16 unit takes 1 to 3 UTF-8 bytes, so the text is encoded
 * (a copy as big as the document, on every snapshot) only when its length
 * alone cannot tell.
 */
export function utf8Bytes(text: string, limit: number): number {
  if (limit > 0 && (text.length > limit || text.length * 3 <= limit)) {
    return text.length > limit ? text.length : text.length * 3;
  }
  return encoder.encode(text).length;
}

export class DocumentSnapshotter implements IDisposable {
  constructor(
    readonly context: DocumentRegistry.Context,
    readonly kind: SnapshotKind,
    private readonly _options: DocumentSnapshotter.IOptions
  ) {
    context.model.contentChanged.connect(this._onChange, this);
    context.saveState.connect(this._onSaveState, this);
    context.pathChanged.connect(this._onRenamed, this);
    context.disposed.connect(() => this.dispose());
  }

  get isDisposed(): boolean {
    return this._disposed;
  }

  /** The ids of the snapshots this page sent for the document. */
  get ownIds(): ReadonlySet<number> {
    return this._options.ownIds;
  }

  /** Snapshots this page restored into the buffer: discarded once it is saved. */
  adopt(id: number): void {
    this._adopted.add(id);
  }

  /** Send the buffer now if it has unsaved changes the server does not have. */
  async flush(unloading = false): Promise<void> {
    this._clearTimer();
    if (this._sending) {
      this._again = true;
      await this._sending;
      return;
    }
    if (
      this._disposed ||
      this.context.model.isDisposed ||
      !this.context.model.dirty ||
      this._refused
    ) {
      return;
    }
    this._sending = this._send(unloading);
    try {
      await this._sending;
    } finally {
      this._sending = null;
    }
    if (this._again && !this._disposed) {
      this._again = false;
      this._schedule();
    }
  }

  /**
   * A view of the document is closing: send what it holds (the model is
   * still alive; it goes with the context, after the last view).
   */
  viewClosing(): void {
    if (!this._disposed && !this.context.isDisposed) {
      void this.flush(true);
    }
  }

  dispose(): void {
    if (this._disposed) {
      return;
    }
    this._disposed = true;
    this._clearTimer();
    this._options.onDisposed?.(this);
  }

  private _onChange(): void {
    const { delay, maxWait } = this._options.policy();
    if (delay <= 0 || this._refused) {
      return;
    }
    const now = Date.now();
    if (this._firstPending === null) {
      this._firstPending = now;
    }
    const wait = Math.max(
      0,
      Math.min(delay, this._firstPending + Math.max(maxWait, delay) - now)
    );
    this._schedule(wait);
  }

  private _schedule(wait?: number): void {
    this._clearTimer();
    const delay = wait ?? this._options.policy().delay;
    this._timer = window.setTimeout(() => {
      this._timer = undefined;
      void this.flush();
    }, delay);
  }

  private _clearTimer(): void {
    if (this._timer !== undefined) {
      window.clearTimeout(this._timer);
      this._timer = undefined;
    }
  }

  private _content(): string {
    const model = this.context.model;
    return this.kind === 'notebook'
      ? JSON.stringify(model.toJSON())
      : model.toString();
  }

  private _base(): { base_hash: string | null; base_mtime: number | null } {
    const model = this.context.contentsModel;
    const hash =
      model?.hash && model.hash_algorithm === 'sha256' ? model.hash : null;
    const mtime = model?.last_modified
      ? Date.parse(model.last_modified) / 1000
      : NaN;
    return {
      base_hash: hash && /^[0-9a-f]{64}$/.test(hash) ? hash : null,
      base_mtime: Number.isFinite(mtime) && mtime >= 0 ? mtime : null
    };
  }

  private async _send(unloading: boolean): Promise<void> {
    this._firstPending = null;
    const content = this._content();
    if (content === this._lastSent) {
      return;
    }
    const path = this.context.path;
    const { maxBytes } = this._options.policy();
    const bytes = utf8Bytes(content, maxBytes);
    if (maxBytes > 0 && bytes > maxBytes) {
      if (!this._toldTooLarge) {
        this._toldTooLarge = true;
        this._options.notices.tooLarge(path, bytes, maxBytes);
      }
      return;
    }
    this._toldTooLarge = false;
    try {
      const answer = await putSnapshot(
        {
          path,
          kind: this.kind,
          content,
          ...this._base(),
          client: CLIENT_ID
        },
        unloading && utf8Bytes(content, KEEPALIVE_BYTES) <= KEEPALIVE_BYTES
          ? { keepalive: true }
          : {}
      );
      this._lastSent = content;
      if ('id' in answer) {
        this._options.ownIds.add(answer.id);
        this._options.onSent?.(answer.id);
      }
    } catch (error) {
      this._failed(path, error);
    }
  }

  private _failed(path: string, error: unknown): void {
    const status = error instanceof WorkspaceRequestError ? error.status : 0;
    if (status === 413) {
      const cap = Number(
        (error as WorkspaceRequestError).body?.cap ??
          this._options.policy().maxBytes
      );
      if (!this._toldTooLarge) {
        this._toldTooLarge = true;
        this._options.notices.tooLarge(path, cap + 1, cap);
      }
    } else if (status === 400 || status === 403 || status === 404) {
      this._refused = true;
      this._options.notices.refused(path, (error as Error).message);
    } else if (!this._disposed) {
      // 503 (disk full, database locked) or the server unreachable: keep the
      // buffer and try again.
      this._schedule(RETRY_MS);
    }
  }

  private _onSaveState(
    _: DocumentRegistry.Context,
    state: DocumentRegistry.SaveState
  ): void {
    if (state !== 'completed') {
      return;
    }
    this._clearTimer();
    this._firstPending = null;
    const adopted = [...this._adopted];
    this._adopted.clear();
    for (const id of adopted) {
      void discardSnapshot(id).catch(() => undefined);
    }
    if (this._lastSent === null) {
      return; // nothing of this page's to drop
    }
    // The saved content, sent once more: the server finds it equal to the
    // file and drops this tab's snapshots of it (also for a file its watcher
    // does not report, e.g. an ignored one).
    this._lastSent = null;
    void this._sendSaved();
  }

  private async _sendSaved(): Promise<void> {
    const content = this._content();
    try {
      await putSnapshot({
        path: this.context.path,
        kind: this.kind,
        content,
        ...this._base(),
        client: CLIENT_ID
      });
      this._lastSent = content;
    } catch {
      // The watcher drops it too; a leftover is listed as "same as disk".
    }
  }

  private _onRenamed(): void {
    // Snapshots under the old name would be offered as a deleted file's.
    for (const id of this._options.ownIds) {
      void discardSnapshot(id).catch(() => undefined);
    }
    this._options.ownIds.clear();
    this._lastSent = null;
    this._refused = false;
    if (this.context.model.dirty) {
      this._schedule(0);
    }
  }

  private _timer: number | undefined = undefined;
  private _firstPending: number | null = null;
  private _lastSent: string | null = null;
  private _sending: Promise<void> | null = null;
  private _again = false;
  private _refused = false;
  private _toldTooLarge = false;
  private _disposed = false;
  private _adopted = new Set<number>();
}

export namespace DocumentSnapshotter {
  export interface IOptions {
    policy: () => ISnapshotPolicy;
    notices: ISnapshotNotices;
    /** The ids this page sent for the document (shared with the recovery offer). */
    ownIds: Set<number>;
    /** Every snapshot id this page sends, for the page-wide "own" set. */
    onSent?: (id: number) => void;
    onDisposed?: (snapshotter: DocumentSnapshotter) => void;
  }
}
