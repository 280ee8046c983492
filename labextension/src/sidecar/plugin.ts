/**
 * The AI sidecar's state for the user: the status bar item, the notification
 * while it is degraded, and _Restart AI Sidecar_.
 */
import {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { IStatusBar } from '@jupyterlab/statusbar';
import { ITranslator } from '@jupyterlab/translation';

import { CHAT_ID } from '../chat/chatview';
import { CommandIDs, NO_ARGS, PALETTE_CATEGORY } from '../commands';
import { loadTranslation } from '../common/translation';
import { IWorkspaceClient } from '../tokens';
import { SidecarNotifier, createSidecarStatusItem } from './sidecarstatus';

export const sidecarPlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyter-workspace:sidecar',
  description:
    "The AI sidecar's state in the status bar, a notification while it is degraded, and its restart command.",
  autoStart: true,
  requires: [IWorkspaceClient],
  optional: [ICommandPalette, IStatusBar, ITranslator],
  activate: (
    app: JupyterFrontEnd,
    client: IWorkspaceClient,
    palette: ICommandPalette | null,
    statusBar: IStatusBar | null,
    translator: ITranslator | null
  ): void => {
    const { sidecar } = client;
    const trans = loadTranslation(translator);
    // A click on the item shows the chat, where the sidecar's state matters.
    const showChat = () => {
      app.shell.activateById(CHAT_ID);
    };
    statusBar?.registerStatusItem('jupyter-workspace:sidecar-status', {
      item: createSidecarStatusItem(sidecar, showChat, trans),
      align: 'left',
      rank: 50
    });
    // Lives as long as the page: a notification while the sidecar is degraded.
    new SidecarNotifier(sidecar, trans);

    app.commands.addCommand(CommandIDs.restartSidecar, {
      label: trans.__('Workspace: Restart AI Sidecar'),
      caption: trans.__(
        'Restart the AI sidecar (leaves degraded mode; its retries start again)'
      ),
      describedBy: NO_ARGS,
      execute: () => sidecar.restart()
    });
    palette?.addItem({
      command: CommandIDs.restartSidecar,
      category: PALETTE_CATEGORY
    });
  }
};
