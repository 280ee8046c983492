/**
 * The Problems plugin: the open failures of the pipelines' last runs in a
 * left-sidebar panel and as diagnostics (lint markers) in the file editors,
 * both cleared when a later run of the pipeline passes.
 */
import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { IEditorTracker } from '@jupyterlab/fileeditor';
import { ITranslator } from '@jupyterlab/translation';

import { CommandIDs, PALETTE_CATEGORY, addShowPanelCommand } from '../commands';
import { loadTranslation } from '../common/translation';
import { IWorkspaceClient } from '../tokens';
import { EditorDiagnostics } from './diagnostics';
import { ProblemsModel } from './problemsmodel';
import { PROBLEMS_ID, ProblemsPanel } from './problemsview';

export const problemsPlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyter-workspace:problems',
  description:
    'Problems: build and test failures of the pipelines in a left-sidebar list and as diagnostics in the file editors.',
  autoStart: true,
  requires: [IWorkspaceClient],
  optional: [IEditorTracker, ICommandPalette, ILayoutRestorer, ITranslator],
  activate: (
    app: JupyterFrontEnd,
    client: IWorkspaceClient,
    editors: IEditorTracker | null,
    palette: ICommandPalette | null,
    restorer: ILayoutRestorer | null,
    translator: ITranslator | null
  ): void => {
    const trans = loadTranslation(translator);
    const model = new ProblemsModel(client.events);
    const panel = new ProblemsPanel({
      model,
      trans,
      openSource: source => client.openSource(source)
    });
    app.shell.add(panel, 'left', { rank: 370 });
    restorer?.add(panel, PROBLEMS_ID);
    if (editors) {
      // Lives as long as the page.
      new EditorDiagnostics(model, editors, trans);
    }
    addShowPanelCommand(app, CommandIDs.openProblems, {
      label: trans.__('Workspace: Show Problems'),
      caption: trans.__(
        'Show the build and test failures of the pipelines’ last runs'
      ),
      panel,
      focus: () => panel.focusFirst()
    });
    palette?.addItem({
      command: CommandIDs.openProblems,
      category: PALETTE_CATEGORY
    });
  }
};
