/**
 * The Recovery plugin: every open file and notebook with unsaved changes is
 * snapshotted to the coordinator about a second after the last edit and when
 * the page is hidden; a document opened with work a crash left unsaved offers
 * Restore / Show Diff / Discard; _Recover Unsaved Work_ lists all of them.
 */
import {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import {
  ICommandPalette,
  MainAreaWidget,
  Notification
} from '@jupyterlab/apputils';
import { IDocumentManager } from '@jupyterlab/docmanager';
import type { DocumentRegistry } from '@jupyterlab/docregistry';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { ITranslator } from '@jupyterlab/translation';
import { Widget } from '@lumino/widgets';

import { CommandIDs, NO_ARGS, PALETTE_CATEGORY } from '../commands';
import { requestAPI } from '../common/request';
import { loadTranslation } from '../common/translation';
import { IWorkspaceClient } from '../tokens';
import { Recovery, newerThanDisk } from './recovery';
import {
  IRecoveryActions,
  RECOVERY_ID,
  RecoveryDiffPanel,
  RecoveryListModel,
  RecoveryPanel
} from './recoveryview';
import { IListedSnapshot, SnapshotKind } from './snapshotapi';

const PLUGIN_ID = 'jupyter-workspace:recovery';

/** The widget factories whose documents are snapshotted, and as what. */
const FACTORIES: ReadonlyArray<[string, SnapshotKind]> = [
  ['Editor', 'file'],
  ['Notebook', 'notebook']
];

/** After start, documents not reopened by the layout are announced after this. */
const ANNOUNCE_AFTER_MS = 4000;

export const recoveryPlugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description:
    'Snapshots of unsaved editors and notebooks, and their recovery after a crash of the page, the browser or the server.',
  autoStart: true,
  requires: [IWorkspaceClient, IDocumentManager],
  optional: [ICommandPalette, ISettingRegistry, ITranslator],
  activate: (
    app: JupyterFrontEnd,
    client: IWorkspaceClient,
    docManager: IDocumentManager,
    palette: ICommandPalette | null,
    settingRegistry: ISettingRegistry | null,
    translator: ITranslator | null
  ): void => {
    const trans = loadTranslation(translator);
    const showDiff = (snapshot: IListedSnapshot): void => {
      const content = new RecoveryDiffPanel(snapshot, actions, trans);
      const widget = new MainAreaWidget({ content });
      widget.id = `jp-workspace-recovery-diff-${snapshot.id}`;
      widget.title.label = trans.__('Recover: %1', snapshot.path);
      widget.title.closable = true;
      app.shell.add(widget, 'main', { mode: 'split-right' });
      app.shell.activateById(widget.id);
    };
    const recovery = new Recovery({
      docManager,
      contents: app.serviceManager.contents,
      trans,
      showDiff
    });
    const actions: IRecoveryActions = {
      restore: id => recovery.restore(id),
      discard: id => recovery.discard(id),
      showDiff,
      list: () => recovery.recoverable()
    };

    for (const [factory, kind] of FACTORIES) {
      app.docRegistry.addWidgetExtension(factory, {
        createNew: (widget: Widget, context: DocumentRegistry.Context) => {
          recovery.attach(widget, context, kind);
        }
      });
    }

    // The limit on a document, so one over it is not sent again and again.
    void requestAPI<{ limits?: { snapshot_max_bytes?: number } }>(
      'status'
    ).then(
      status => {
        recovery.policy.maxBytes = status.limits?.snapshot_max_bytes ?? 0;
      },
      () => undefined
    );
    if (settingRegistry) {
      void settingRegistry.load(PLUGIN_ID).then(
        settings => {
          const apply = () => {
            recovery.policy.delay = settings.get('delay').composite as number;
            recovery.policy.maxWait = settings.get('maxWait')
              .composite as number;
          };
          apply();
          settings.changed.connect(apply);
        },
        () => undefined
      );
    }

    // The page hidden (another tab, minimised) or going away: send now.
    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState === 'hidden') {
        recovery.flushAll();
      }
    });
    window.addEventListener('pagehide', () => recovery.flushAll(true));

    const model = new RecoveryListModel(actions, client.events);
    let panel: MainAreaWidget<RecoveryPanel> | null = null;
    const openPanel = (): void => {
      if (!panel || panel.isDisposed) {
        const content = new RecoveryPanel(model, actions, trans);
        panel = new MainAreaWidget({ content });
        panel.id = RECOVERY_ID;
        panel.title.label = trans.__('Recover Unsaved Work');
        panel.title.closable = true;
      }
      if (!panel.isAttached) {
        app.shell.add(panel, 'main');
      }
      app.shell.activateById(panel.id);
    };
    app.commands.addCommand(CommandIDs.recoverUnsaved, {
      label: trans.__('Workspace: Recover Unsaved Work'),
      caption: trans.__(
        'List the documents whose unsaved changes were kept after a crash, to restore or discard them'
      ),
      describedBy: NO_ARGS,
      execute: openPanel
    });
    palette?.addItem({
      command: CommandIDs.recoverUnsaved,
      category: PALETTE_CATEGORY
    });

    // Documents the restored layout did not reopen: say that work is waiting.
    void app.restored.then(() =>
      window.setTimeout(async () => {
        let waiting: IListedSnapshot[];
        try {
          waiting = (await recovery.recoverable()).filter(
            s => !s.live && !recovery.isOpen(s.path) && newerThanDisk(s)
          );
        } catch {
          return;
        }
        if (waiting.length === 0) {
          return;
        }
        Notification.warning(
          trans._n(
            '%1 document has changes that were never saved (the page, the browser or the server stopped).',
            '%1 documents have changes that were never saved (the page, the browser or the server stopped).',
            waiting.length
          ),
          {
            // The bell in the status bar keeps it after the toast goes: the toast
            // must not stay over the chat or an editor's corner.
            autoClose: 10000,
            actions: [
              {
                label: trans.__('Recover…'),
                callback: openPanel,
                displayType: 'accent'
              }
            ]
          }
        );
      }, ANNOUNCE_AFTER_MS)
    );
  }
};
