/**
 * The Go to Symbol plugin: _Workspace: Go to Symbol…_ in the command palette
 * finds a definition by name in the index and opens the editor at its line.
 */
import {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette, Notification } from '@jupyterlab/apputils';
import { ITranslator } from '@jupyterlab/translation';

import { CommandIDs, NO_ARGS, PALETTE_CATEGORY } from '../commands';
import { errorMessage } from '../common/request';
import { loadTranslation } from '../common/translation';
import { IWorkspaceClient } from '../tokens';
import { goToSymbol } from './gotosymbol';

export const symbolsPlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyter-workspace:symbols',
  description:
    'Go to Symbol: find a definition of the served folder by name and open it at its line.',
  autoStart: true,
  requires: [IWorkspaceClient],
  optional: [ICommandPalette, ITranslator],
  activate: (
    app: JupyterFrontEnd,
    client: IWorkspaceClient,
    palette: ICommandPalette | null,
    translator: ITranslator | null
  ): void => {
    const trans = loadTranslation(translator);
    app.commands.addCommand(CommandIDs.goToSymbol, {
      label: trans.__('Workspace: Go to Symbol…'),
      caption: trans.__(
        'Find a function, class or method of the workspace by name and open it at its definition'
      ),
      describedBy: NO_ARGS,
      execute: async () => {
        try {
          await goToSymbol(trans, source => client.openSource(source));
        } catch (error) {
          Notification.error(errorMessage(error), { autoClose: 8000 });
        }
      }
    });
    palette?.addItem({
      command: CommandIDs.goToSymbol,
      category: PALETTE_CATEGORY
    });
  }
};
