/**
 * The recovery views: what the restore offer says, the diff of a snapshot
 * against the file on disk, and the Recover Unsaved Work panel that lists
 * every recoverable document.
 */
import { ReactWidget, UseSignal } from '@jupyterlab/apputils';
import { Time } from '@jupyterlab/coreutils';
import { TranslationBundle } from '@jupyterlab/translation';
import { Button } from '@jupyterlab/ui-components';
import { Message } from '@lumino/messaging';
import { ISignal, Signal } from '@lumino/signaling';
import * as React from 'react';

import { WorkspaceEvents } from '../common/events';
import { errorMessage } from '../common/request';
import { translated, useTranslation } from '../common/translation';
import { HunkLines } from '../diff/diffview';
import { hunks, splitLines } from '../diff/linediff';
import { comparable } from './recoverytext';
import {
  IFullSnapshot,
  IListedSnapshot,
  getSnapshot,
  tabLabel
} from './snapshotapi';

export const RECOVERY_ID = 'jp-workspace-recovery';

/** What the views can do with a snapshot. */
export interface IRecoveryActions {
  restore(id: number): Promise<boolean>;
  discard(id: number): Promise<boolean>;
  showDiff(snapshot: IListedSnapshot): void;
  /** The recoverable snapshots, newest first. */
  list(): Promise<IListedSnapshot[]>;
}

function sizeLabel(bytes: number): string {
  if (bytes < 1024) {
    return `${bytes} B`;
  }
  if (bytes < 1048576) {
    return `${(bytes / 1024).toFixed(1)} KB`;
  }
  return `${(bytes / 1048576).toFixed(1)} MB`;
}

/** The state of the document on disk, in words. */
function diskWords(
  snapshot: IListedSnapshot,
  trans: TranslationBundle
): string {
  const { disk } = snapshot;
  if (!disk.exists) {
    return snapshot.kind === 'note'
      ? trans.__('the note was deleted')
      : trans.__('deleted on disk');
  }
  if (disk.changed_since_base) {
    return trans.__('changed on disk since');
  }
  return snapshot.live
    ? trans.__('unsaved, open in another tab')
    : trans.__('unsaved');
}

/** The restore offer's text: when, from which tab, and what changed on disk. */
export function OfferBody(props: {
  snapshot: IListedSnapshot;
  others: number;
}): JSX.Element {
  const { snapshot, others } = props;
  const trans = useTranslation();
  return (
    <div className="jp-Workspace-recoveryOffer">
      <p>
        {trans.__(
          '%1 has changes from %2 (browser tab %3) that were never saved: the page or the server stopped before they were.',
          snapshot.path,
          new Date(snapshot.created).toLocaleString(),
          tabLabel(snapshot.client)
        )}
      </p>
      {snapshot.disk.changed_since_base && (
        <p className="jp-Workspace-recoveryWarning">
          {trans.__(
            'The file changed on disk since these edits were made: Restore keeps both, the recovered version as a new file beside it.'
          )}
        </p>
      )}
      {others > 0 && (
        <p>
          {trans._n(
            'One more version from another tab is in Recover Unsaved Work.',
            '%1 more versions from other tabs are in Recover Unsaved Work.',
            others
          )}
        </p>
      )}
      <p>
        {trans.__(
          'Restore puts them back in the editor (nothing is written until you save); Later keeps them in Recover Unsaved Work.'
        )}
      </p>
    </div>
  );
}

type DiffState =
  | { state: 'loading' }
  | { state: 'ready'; snapshot: IFullSnapshot }
  | { state: 'done'; message: string }
  | { state: 'error'; message: string };

function RecoveryDiffView(props: {
  listed: IListedSnapshot;
  actions: IRecoveryActions;
  onClose: () => void;
}): JSX.Element {
  const { listed, actions, onClose } = props;
  const trans = useTranslation();
  const [view, setView] = React.useState<DiffState>({ state: 'loading' });
  React.useEffect(() => {
    getSnapshot(listed.id).then(
      snapshot => setView({ state: 'ready', snapshot }),
      error => setView({ state: 'error', message: errorMessage(error) })
    );
  }, [listed.id]);

  const parts = React.useMemo(() => {
    if (view.state !== 'ready') {
      return [];
    }
    const { snapshot } = view;
    const disk = snapshot.disk.text ?? '';
    return hunks(
      splitLines(comparable(snapshot.kind, disk)),
      splitLines(comparable(snapshot.kind, snapshot.content))
    );
  }, [view]);

  const act = async (restore: boolean) => {
    const ok = restore
      ? await actions.restore(listed.id)
      : await actions.discard(listed.id);
    if (ok) {
      setView({
        state: 'done',
        message: restore
          ? trans.__('Restored.')
          : trans.__('Discarded: the file on disk stays as it is.')
      });
    }
  };

  const snapshot = view.state === 'ready' ? view.snapshot : null;
  return (
    <div
      className="jp-Workspace-diff jp-Workspace-recoveryDiff"
      data-state={view.state}
    >
      <div className="jp-Workspace-diffHeader">
        <h2 className="jp-Workspace-diffTitle">
          {trans.__('Unsaved changes to %1', listed.path)}
        </h2>
        <p className="jp-Workspace-diffScope">
          {trans.__(
            'The file on disk (−) against the changes from %1, browser tab %2 (+).',
            new Date(listed.created).toLocaleString(),
            tabLabel(listed.client)
          )}
        </p>
        {listed.disk.changed_since_base && (
          <p className="jp-Workspace-recoveryWarning">
            {trans.__(
              'The file changed on disk since these edits were made: both sides are shown; Restore keeps both (the recovered version as a new file).'
            )}
          </p>
        )}
      </div>
      <div className="jp-Workspace-diffActions">
        <Button
          type="button"
          className="jp-Workspace-textButton jp-mod-accept jp-Workspace-recoveryRestore"
          onClick={() => void act(true)}
          disabled={view.state !== 'ready'}
        >
          {trans.__('Restore')}
        </Button>
        <Button
          type="button"
          className="jp-Workspace-textButton jp-Workspace-recoveryDiscard"
          onClick={() => void act(false)}
          disabled={view.state !== 'ready'}
        >
          {trans.__('Discard')}
        </Button>
        <Button
          type="button"
          className="jp-Workspace-textButton"
          onClick={onClose}
        >
          {trans.__('Close')}
        </Button>
      </div>
      <div className="jp-Workspace-diffStatus" role="status" aria-live="polite">
        {view.state === 'loading' && trans.__('Loading…')}
        {view.state === 'done' && view.message}
        {view.state === 'error' &&
          trans.__('Cannot show the diff: %1', view.message)}
      </div>
      {snapshot && snapshot.disk.exists && snapshot.disk.text === null && (
        <p className="jp-Workspace-diffSame">
          {trans.__(
            'The file on disk is not text or too large to compare: the recovered version is shown whole.'
          )}
        </p>
      )}
      {snapshot && !snapshot.disk.exists && (
        <p className="jp-Workspace-diffSame">
          {trans.__('The file no longer exists on disk: everything is new.')}
        </p>
      )}
      {snapshot && parts.length === 0 && (
        <p className="jp-Workspace-diffSame">
          {trans.__(
            'The recovered version reads the same as the file on disk.'
          )}
        </p>
      )}
      {parts.map((hunk, i) => (
        <section
          key={i}
          className="jp-Workspace-diffHunk"
          aria-label={trans.__('Change %1 of %2', i + 1, parts.length)}
        >
          <div className="jp-Workspace-diffHunkHeader">
            <span className="jp-Workspace-diffHunkRange">
              {`@@ -${hunk.oldStart + 1},${hunk.oldLines} +${hunk.newStart + 1},${hunk.newLines} @@`}
            </span>
          </div>
          <HunkLines hunk={hunk} />
        </section>
      ))}
    </div>
  );
}

/** A snapshot against the file on disk, in the main area. */
export class RecoveryDiffPanel extends ReactWidget {
  constructor(
    private readonly _listed: IListedSnapshot,
    private readonly _actions: IRecoveryActions,
    private readonly _trans: TranslationBundle
  ) {
    super();
    this.addClass('jp-Workspace-diffPanel');
  }

  protected render(): JSX.Element {
    return translated(
      this._trans,
      <RecoveryDiffView
        listed={this._listed}
        actions={this._actions}
        onClose={() => (this.parent ?? this).close()}
      />
    );
  }
}

/** The recoverable snapshots, kept current by the snapshot events. */
export class RecoveryListModel {
  constructor(
    private readonly _actions: IRecoveryActions,
    events: WorkspaceEvents
  ) {
    events.received.connect((_, event) => {
      if (
        event.type === 'snapshot.saved' ||
        event.type === 'snapshot.deleted'
      ) {
        this._soon();
      }
    });
    events.connected.connect(() => this._soon());
  }

  get items(): ReadonlyArray<IListedSnapshot> {
    return this._items;
  }

  get error(): string {
    return this._error;
  }

  get loaded(): boolean {
    return this._loaded;
  }

  get changed(): ISignal<this, void> {
    return this._changed;
  }

  async refresh(): Promise<void> {
    try {
      this._items = await this._actions.list();
      this._error = '';
    } catch (error) {
      this._error = errorMessage(error);
    }
    this._loaded = true;
    this._changed.emit(undefined);
  }

  /**
   * Whether a view shows the list: only then do snapshot events refetch it
   * (every open tab sends snapshots; a hidden list need not follow them).
   */
  set active(value: boolean) {
    this._active = value;
    if (value) {
      void this.refresh();
    }
  }

  private _soon(): void {
    if (!this._active) {
      return;
    }
    window.clearTimeout(this._timer);
    this._timer = window.setTimeout(() => void this.refresh(), 300);
  }

  private _items: IListedSnapshot[] = [];
  private _active = false;
  private _error = '';
  private _loaded = false;
  private _timer = 0;
  private _changed = new Signal<this, void>(this);
}

function RecoveryRow(props: {
  snapshot: IListedSnapshot;
  actions: IRecoveryActions;
  onDone: () => void;
}): JSX.Element {
  const { snapshot, actions, onDone } = props;
  const trans = useTranslation();
  const [busy, setBusy] = React.useState(false);
  const run = async (action: () => Promise<boolean>) => {
    setBusy(true);
    try {
      if (await action()) {
        onDone();
      }
    } finally {
      setBusy(false);
    }
  };
  const state = diskWords(snapshot, trans);
  return (
    <li
      className="jp-Workspace-recoveryRow"
      data-path={snapshot.path}
      data-live={snapshot.live}
      data-state={
        !snapshot.disk.exists
          ? 'deleted'
          : snapshot.disk.changed_since_base
            ? 'changed'
            : 'unsaved'
      }
    >
      <div className="jp-Workspace-recoveryWhat">
        <span className="jp-Workspace-recoveryPath" title={snapshot.path}>
          {snapshot.path}
        </span>
        <span className="jp-Workspace-recoveryMeta">
          <span title={Time.format(snapshot.created)}>
            {Time.formatHuman(snapshot.created)}
          </span>
          {' · '}
          {trans.__('tab %1', tabLabel(snapshot.client))}
          {' · '}
          {sizeLabel(snapshot.size)}
          {' · '}
          <span className="jp-Workspace-recoveryState">{state}</span>
        </span>
      </div>
      <div className="jp-Workspace-recoveryActions">
        <Button
          type="button"
          className="jp-Workspace-textButton jp-Workspace-recoveryShowDiff"
          aria-label={trans.__('Show the diff of %1', snapshot.path)}
          onClick={() => actions.showDiff(snapshot)}
        >
          {trans.__('Show Diff')}
        </Button>
        <Button
          type="button"
          className="jp-Workspace-textButton jp-mod-accept jp-Workspace-recoveryRestore"
          aria-label={trans.__('Restore %1', snapshot.path)}
          disabled={busy}
          onClick={() => void run(() => actions.restore(snapshot.id))}
        >
          {trans.__('Restore')}
        </Button>
        <Button
          type="button"
          className="jp-Workspace-textButton jp-Workspace-recoveryDiscard"
          aria-label={trans.__(
            'Discard the unsaved changes to %1',
            snapshot.path
          )}
          disabled={busy}
          onClick={() => void run(() => actions.discard(snapshot.id))}
        >
          {trans.__('Discard')}
        </Button>
      </div>
    </li>
  );
}

function RecoveryView(props: {
  model: RecoveryListModel;
  actions: IRecoveryActions;
}): JSX.Element {
  const { model, actions } = props;
  const trans = useTranslation();
  return (
    <UseSignal signal={model.changed}>
      {() => (
        <div className="jp-Workspace-diff jp-Workspace-recovery">
          <h2 className="jp-Workspace-diffTitle">
            {trans.__('Recover Unsaved Work')}
          </h2>
          <p className="jp-Workspace-diffScope">
            {trans.__(
              'Changes that were never saved, kept by the workspace when a page, the browser or the server stopped. Restore puts them back in an editor; nothing is written over a file.'
            )}
          </p>
          {model.error && (
            <p className="jp-Workspace-recoveryError" role="alert">
              {trans.__('Cannot list them: %1', model.error)}
            </p>
          )}
          {model.loaded && !model.error && model.items.length === 0 && (
            <p className="jp-Workspace-recoveryEmpty">
              {trans.__('Nothing to recover: no unsaved work was left behind.')}
            </p>
          )}
          <ul
            className="jp-Workspace-recoveryList"
            aria-label={trans.__('Recoverable documents')}
          >
            {model.items.map(snapshot => (
              <RecoveryRow
                key={snapshot.id}
                snapshot={snapshot}
                actions={actions}
                onDone={() => void model.refresh()}
              />
            ))}
          </ul>
        </div>
      )}
    </UseSignal>
  );
}

/** The Recover Unsaved Work panel (main area). */
export class RecoveryPanel extends ReactWidget {
  constructor(
    readonly model: RecoveryListModel,
    private readonly _actions: IRecoveryActions,
    private readonly _trans: TranslationBundle
  ) {
    super();
    this.addClass('jp-Workspace-recoveryPanel');
    this.title.label = _trans.__('Recover Unsaved Work');
    this.title.closable = true;
  }

  protected onAfterAttach(msg: Message): void {
    super.onAfterAttach(msg);
    this.model.active = true;
  }

  protected onBeforeDetach(msg: Message): void {
    this.model.active = false;
    super.onBeforeDetach(msg);
  }

  protected render(): JSX.Element {
    return translated(
      this._trans,
      <RecoveryView model={this.model} actions={this._actions} />
    );
  }
}
