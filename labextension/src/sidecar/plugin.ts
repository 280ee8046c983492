/**
 * The AI's state for the user: the status bar item (sidecar, index, whether
 * the LLM answers), the notification while the sidecar is degraded, and
 * _Restart AI Sidecar_.
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
import { requestOpenSettings } from '../common/settingslink';
import { loadTranslation } from '../common/translation';
import { IWorkspaceClient } from '../tokens';
import { setLLMGate } from './llmgate';
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
    // A click on the item shows the chat, where the sidecar's state matters,
    // or the settings when no LLM answers.
    const actions = {
      openChat: () => app.shell.activateById(CHAT_ID),
      openSettings: () => requestOpenSettings(document.body)
    };
    statusBar?.registerStatusItem('jupyter-workspace:sidecar-status', {
      item: createSidecarStatusItem(sidecar, actions, trans),
      align: 'left',
      rank: 50
    });
    // Lives as long as the page: a notification while the sidecar is degraded.
    new SidecarNotifier(sidecar, trans);
    // Summarize and Refine are held back while no LLM answers.
    setLLMGate(sidecar);
    // The chat asks the model and server of the settings: check that one.
    client.watchSettings(settings => {
      const model = settings.get('llmModel').composite;
      const apiBase = settings.get('llmApiBase').composite;
      sidecar.overrides = {
        model: typeof model === 'string' ? model : '',
        apiBase: typeof apiBase === 'string' ? apiBase : ''
      };
    });

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
