/**
 * The page's side of crash recovery: a snapshotter for every open document,
 * the offer to restore when a document with recoverable work opens, and the
 * actions the offer, the diff and the Recover panel share (restore, discard).
 *
 * A restore never writes over a file: it fills the open editor (the user
 * saves), or, when the file changed on disk since the buffer was loaded (or
 * the editor holds other unsaved edits), writes the recovered version as a new
 * file beside it and keeps both.
 */
import { Dialog, Notification, showDialog } from '@jupyterlab/apputils';
import { PathExt } from '@jupyterlab/coreutils';
import { IDocumentManager } from '@jupyterlab/docmanager';
import { DocumentRegistry } from '@jupyterlab/docregistry';
import { Contents } from '@jupyterlab/services';
import { TranslationBundle } from '@jupyterlab/translation';
import { Widget } from '@lumino/widgets';
import * as React from 'react';

import { getNote, updateNote } from '../common/api';
import { errorMessage } from '../common/request';
import { translated } from '../common/translation';
import { recoveredCopyPath } from './recoverytext';
import { OfferBody } from './recoveryview';
import {
  IFullSnapshot,
  IListedSnapshot,
  SnapshotKind,
  discardSnapshot,
  getSnapshot,
  isRecoverable,
  listSnapshots
} from './snapshotapi';
import { DocumentSnapshotter, ISnapshotPolicy } from './snapshotter';

/** A snapshot stored after the file's last write holds work the file lacks. */
export function newerThanDisk(snapshot: IListedSnapshot): boolean {
  const { disk } = snapshot;
  if (!disk.exists || disk.mtime === null) {
    return true;
  }
  return Date.parse(snapshot.created) / 1000 > disk.mtime;
}

export class Recovery {
  constructor(private readonly _options: Recovery.IOptions) {}

  readonly policy: ISnapshotPolicy = {
    delay: 1000,
    maxWait: 10000,
    maxBytes: 0
  };

  /** Every snapshot id this page sent: its own live buffers are not "lost". */
  readonly ownIds = new Set<number>();

  get trans(): TranslationBundle {
    return this._options.trans;
  }

  /** Snapshot a document opened in `widget`, and offer what it left unsaved. */
  attach(
    widget: Widget,
    context: DocumentRegistry.Context,
    kind: SnapshotKind
  ): void {
    let snapshotter = this._snapshotters.get(context);
    if (!snapshotter) {
      snapshotter = this._snapshotter(context, kind);
      this._snapshotters.set(context, snapshotter);
      void context.ready.then(() => this._offer(context, kind));
    }
    const owner = snapshotter;
    widget.disposed.connect(() => owner.viewClosing());
  }

  /** A document's snapshotter; it disposes of itself with the document's context. */
  private _snapshotter(
    context: DocumentRegistry.Context,
    kind: SnapshotKind
  ): DocumentSnapshotter {
    return new DocumentSnapshotter(context, kind, {
      policy: () => this.policy,
      notices: {
        tooLarge: (path, bytes, cap) =>
          Notification.warning(
            this.trans.__(
              '%1 is too large for crash snapshots (%2 MB, the limit is %3 MB): its unsaved changes are not kept until saved; an earlier snapshot that fit is kept.',
              path,
              (bytes / 1048576).toFixed(1),
              (cap / 1048576).toFixed(1)
            ),
            { autoClose: 10000 }
          ),
        refused: (path, message) =>
          console.info(`jupyter-workspace: no snapshots of ${path}: ${message}`)
      },
      ownIds: new Set<number>(),
      onSent: id => this.ownIds.add(id),
      onDisposed: s => this._snapshotters.delete(s.context)
    });
  }

  /** Send every open document's unsaved changes now (the page is hidden or unloading). */
  flushAll(unloading = false): void {
    for (const snapshotter of this._snapshotters.values()) {
      void snapshotter.flush(unloading);
    }
  }

  /** Whether a document is open in this page. */
  isOpen(path: string): boolean {
    return this._contextFor(path) !== null;
  }

  /** The recoverable snapshots of every document (newest first). */
  async recoverable(): Promise<IListedSnapshot[]> {
    const all = await listSnapshots();
    return all.filter(snapshot => isRecoverable(snapshot, this.ownIds));
  }

  /**
   * Bring a snapshot back; says what was done in a notification.
   * @returns whether it was restored
   */
  async restore(id: number): Promise<boolean> {
    const trans = this.trans;
    try {
      const snapshot = await getSnapshot(id);
      if (snapshot.kind === 'note') {
        return await this._restoreNote(snapshot);
      }
      const { path, disk } = snapshot;
      const context = this._contextFor(path);
      if (!disk.exists) {
        await this._write(path, snapshot);
        this._options.docManager.openOrReveal(path);
        await discardSnapshot(id);
        Notification.success(
          trans.__('%1 was written back from its recovered version.', path),
          { autoClose: 6000 }
        );
        return true;
      }
      // Edits typed in this page and not saved (a notebook is dirty from a
      // kernel's start alone: only what the server kept as work counts).
      const busy =
        context !== null &&
        context.model.dirty &&
        (this._snapshotters.get(context)?.ownIds.size ?? 0) > 0;
      if (disk.changed_since_base || busy) {
        const copy = await this._freeCopyPath(path);
        await this._write(copy, snapshot);
        this._options.docManager.openOrReveal(copy);
        await discardSnapshot(id);
        Notification.info(
          disk.changed_since_base
            ? trans.__(
                '%1 changed on disk after these edits were made: the recovered version is kept as %2 and the file is left as it is.',
                path,
                copy
              )
            : trans.__(
                '%1 has other unsaved changes open: the recovered version is kept as %2.',
                path,
                copy
              ),
          { autoClose: 12000 }
        );
        return true;
      }
      const widget = this._options.docManager.openOrReveal(path);
      const target = widget
        ? this._options.docManager.contextForWidget(widget)
        : undefined;
      if (!target) {
        throw new Error(trans.__('cannot open %1', path));
      }
      await target.ready;
      if (snapshot.kind === 'notebook') {
        target.model.fromJSON(JSON.parse(snapshot.content));
      } else {
        target.model.fromString(snapshot.content);
      }
      target.model.dirty = true;
      this._snapshotters.get(target)?.adopt(id);
      Notification.success(
        trans.__(
          'The unsaved changes to %1 are back in the editor: save to keep them.',
          path
        ),
        { autoClose: 6000 }
      );
      return true;
    } catch (error) {
      Notification.error(
        trans.__('Could not restore: %1', errorMessage(error)),
        { autoClose: false }
      );
      return false;
    }
  }

  async discard(id: number): Promise<boolean> {
    try {
      await discardSnapshot(id);
      return true;
    } catch (error) {
      Notification.error(
        this.trans.__('Could not discard: %1', errorMessage(error)),
        { autoClose: false }
      );
      return false;
    }
  }

  /** Ask what to do with a document's newest recoverable snapshot. */
  private async _offer(
    context: DocumentRegistry.Context,
    kind: SnapshotKind
  ): Promise<void> {
    const path = context.path;
    if (this._offered.has(path) || context.isDisposed) {
      return;
    }
    this._offered.add(path);
    let found: IListedSnapshot[];
    try {
      found = (await listSnapshots(path)).filter(
        s =>
          isRecoverable(s, this.ownIds) &&
          !s.live &&
          s.kind === kind &&
          newerThanDisk(s)
      );
    } catch {
      return; // the server is away: the Recover panel lists them later
    }
    const snapshot = found[0];
    if (!snapshot || context.isDisposed) {
      return;
    }
    const trans = this.trans;
    const labels = {
      discard: trans.__('Discard'),
      later: trans.__('Later'),
      diff: trans.__('Show Diff'),
      restore: trans.__('Restore')
    };
    const result = await showDialog({
      title: trans.__('Unsaved changes to %1', PathExt.basename(path)),
      body: translated(
        trans,
        <OfferBody snapshot={snapshot} others={found.length - 1} />
      ),
      buttons: [
        Dialog.warnButton({ label: labels.discard }),
        Dialog.cancelButton({ label: labels.later }),
        Dialog.createButton({ label: labels.diff }),
        Dialog.okButton({ label: labels.restore })
      ],
      defaultButton: 3
    });
    switch (result.button.label) {
      case labels.restore:
        await this.restore(snapshot.id);
        break;
      case labels.diff:
        this._options.showDiff(snapshot);
        break;
      case labels.discard:
        await this.discard(snapshot.id);
        break;
      default:
        break;
    }
  }

  private _contextFor(path: string): DocumentRegistry.Context | null {
    for (const context of this._snapshotters.keys()) {
      if (context.path === path && !context.isDisposed) {
        return context;
      }
    }
    return null;
  }

  private async _write(path: string, snapshot: IFullSnapshot): Promise<void> {
    const model: Partial<Contents.IModel> =
      snapshot.kind === 'notebook'
        ? {
            type: 'notebook',
            format: 'json',
            content: JSON.parse(snapshot.content)
          }
        : { type: 'file', format: 'text', content: snapshot.content };
    await this._options.contents.save(path, model);
  }

  private async _freeCopyPath(path: string): Promise<string> {
    const now = new Date();
    for (let n = 0; n < 100; n++) {
      const candidate = recoveredCopyPath(path, now, n);
      try {
        await this._options.contents.get(candidate, { content: false });
      } catch {
        return candidate; // not there: free
      }
    }
    throw new Error(this.trans.__('no free name for a copy of %1', path));
  }

  private async _restoreNote(snapshot: IFullSnapshot): Promise<boolean> {
    const trans = this.trans;
    const id = Number(snapshot.path.slice('@notes/'.length));
    const note = await getNote(id);
    const answer = await showDialog({
      title: trans.__('Restore the note “%1”?', note.title),
      body: trans.__(
        'The note’s text is replaced by the draft recovered from %1 (its current text stays in the note’s history only if you copy it first).',
        new Date(snapshot.created).toLocaleString()
      ),
      buttons: [
        Dialog.cancelButton(),
        Dialog.okButton({ label: trans.__('Replace the Text') })
      ]
    });
    if (!answer.button.accept) {
      return false;
    }
    await updateNote(id, {
      body: snapshot.content,
      base_revision: note.revision
    });
    await discardSnapshot(snapshot.id);
    Notification.success(trans.__('The note “%1” was restored.', note.title), {
      autoClose: 6000
    });
    return true;
  }

  private _snapshotters = new Map<
    DocumentRegistry.Context,
    DocumentSnapshotter
  >();
  private _offered = new Set<string>();
}

export namespace Recovery {
  export interface IOptions {
    docManager: IDocumentManager;
    contents: Contents.IManager;
    trans: TranslationBundle;
    /** Open the diff of a snapshot against the file on disk. */
    showDiff: (snapshot: IListedSnapshot) => void;
  }
}
