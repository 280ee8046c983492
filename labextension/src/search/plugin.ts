/**
 * The Search panel plugin: semantic and full-text search over the index of the
 * served folder, in its own left-sidebar panel, and _Search for Selection_.
 */
import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { IEditorTracker } from '@jupyterlab/fileeditor';
import { INotebookTracker } from '@jupyterlab/notebook';
import { ITranslator } from '@jupyterlab/translation';

import {
  CommandIDs,
  EDITOR_SELECTORS,
  NO_ARGS,
  PALETTE_CATEGORY,
  addShowPanelCommand
} from '../commands';
import { EditorBridge } from '../common/editorbridge';
import { loadTranslation } from '../common/translation';
import { IWorkspaceClient } from '../tokens';
import { IndexModel } from './indexmodel';
import { NoteTitles } from './notetitles';
import { MAX_QUERY_CHARS, SearchModel } from './searchmodel';
import { SEARCH_ID, SearchPanel } from './searchview';

export const searchPlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyter-workspace:search-panel',
  description:
    'The Search panel (left): code and docs of the served folder, by meaning and by words.',
  autoStart: true,
  requires: [IWorkspaceClient],
  optional: [
    ICommandPalette,
    ILayoutRestorer,
    INotebookTracker,
    IEditorTracker,
    ITranslator
  ],
  activate: (
    app: JupyterFrontEnd,
    client: IWorkspaceClient,
    palette: ICommandPalette | null,
    restorer: ILayoutRestorer | null,
    notebooks: INotebookTracker | null,
    editors: IEditorTracker | null,
    translator: ITranslator | null
  ): void => {
    const { events } = client;
    const trans = loadTranslation(translator);
    const index = new IndexModel({ events });
    const search = new SearchModel({
      index,
      noteTitles: new NoteTitles(events)
    });
    const searchPanel = new SearchPanel({
      model: search,
      trans,
      index,
      events,
      openSource: source => client.openSource(source)
    });
    app.shell.add(searchPanel, 'left', { rank: 355 });
    restorer?.add(searchPanel, SEARCH_ID);

    const bridge = new EditorBridge(app, notebooks, editors, trans);
    addShowPanelCommand(app, CommandIDs.openSearch, {
      label: trans.__('Workspace: Open Search'),
      caption: trans.__(
        'Show the Workspace Search panel (code and docs of the folder)'
      ),
      panel: searchPanel,
      focus: () => searchPanel.focusInput()
    });
    app.commands.addCommand(CommandIDs.searchSelection, {
      label: trans.__('Workspace: Search for Selection'),
      caption: trans.__(
        'Search the workspace for the selected text (or the word at the cursor)'
      ),
      describedBy: NO_ARGS,
      execute: async () => {
        const text = bridge
          .searchText()
          .replace(/\s+/g, ' ')
          .trim()
          .slice(0, MAX_QUERY_CHARS);
        app.shell.activateById(searchPanel.id);
        if (text) {
          search.searchFor(text);
        }
        await searchPanel.focusInput();
      }
    });
    for (const selector of EDITOR_SELECTORS) {
      app.contextMenu.addItem({
        command: CommandIDs.searchSelection,
        selector,
        rank: 21
      });
    }
    for (const command of [CommandIDs.openSearch, CommandIDs.searchSelection]) {
      palette?.addItem({ command, category: PALETTE_CATEGORY });
    }

    void index.refresh();
  }
};
