/**
 * The Pipelines plugin: the commands of `workspace.toml` in a left-sidebar
 * panel, their runs in terminals and output views, notifications when runs
 * fail or pass again.
 */
import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import {
  ICommandPalette,
  InputDialog,
  Notification
} from '@jupyterlab/apputils';
import { IDocumentManager } from '@jupyterlab/docmanager';
import { ITranslator } from '@jupyterlab/translation';

import {
  CommandIDs,
  NO_ARGS,
  PALETTE_CATEGORY,
  addShowPanelCommand
} from '../commands';
import { errorMessage } from '../common/request';
import { loadTranslation } from '../common/translation';
import { IWorkspaceClient } from '../tokens';
import { PipelineActions } from './pipelineactions';
import { PipelineNotifier } from './pipelinenotifier';
import { PipelinesModel } from './pipelinesmodel';
import { PIPELINES_ID, PipelinesPanel } from './pipelinesview';

export const pipelinesPlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyter-workspace:pipelines-panel',
  description:
    'The Pipelines panel (left): the commands of workspace.toml, run in terminals, with their history.',
  autoStart: true,
  requires: [IWorkspaceClient, IDocumentManager],
  optional: [ICommandPalette, ILayoutRestorer, ITranslator],
  activate: (
    app: JupyterFrontEnd,
    client: IWorkspaceClient,
    docManager: IDocumentManager,
    palette: ICommandPalette | null,
    restorer: ILayoutRestorer | null,
    translator: ITranslator | null
  ): void => {
    const { events } = client;
    const trans = loadTranslation(translator);
    const pipelines = new PipelinesModel({ events });
    const pipelineActions = new PipelineActions({
      app,
      docManager,
      events,
      trans,
      model: pipelines,
      openSource: source => client.openSource(source)
    });
    const pipelinesPanel = new PipelinesPanel({
      model: pipelines,
      trans,
      events,
      actions: pipelineActions
    });
    app.shell.add(pipelinesPanel, 'left', { rank: 360 });
    restorer?.add(pipelinesPanel, PIPELINES_ID);
    // Lives as long as the page: notifications when runs fail or pass again.
    new PipelineNotifier(pipelines, id => pipelineActions.openRun(id), trans);

    addShowPanelCommand(app, CommandIDs.openPipelines, {
      label: trans.__('Workspace: Open Pipelines'),
      caption: trans.__(
        'Show the Pipelines panel (the commands of workspace.toml)'
      ),
      panel: pipelinesPanel,
      focus: () => pipelinesPanel.focusFirst()
    });
    app.commands.addCommand(CommandIDs.runPipeline, {
      label: args =>
        typeof args.name === 'string' && args.name
          ? trans.__('Workspace: Run Pipeline %1', args.name)
          : trans.__('Workspace: Run Pipeline…'),
      caption: trans.__('Run a pipeline of workspace.toml in a terminal'),
      describedBy: {
        args: {
          type: 'object',
          properties: {
            name: {
              type: 'string',
              description: 'The pipeline to run (without it, a dialog asks)'
            }
          }
        }
      },
      execute: async args => {
        let name = typeof args.name === 'string' ? args.name : '';
        if (!name) {
          await pipelines.refresh();
          const names = pipelines.pipelines.map(p => p.name);
          if (names.length === 0) {
            // The panel says why: no pipelines yet, or what is wrong with the file.
            app.shell.activateById(pipelinesPanel.id);
            return;
          }
          const choice = await InputDialog.getItem({
            title: trans.__('Run Pipeline'),
            label: trans.__('Pipeline'),
            items: names
          });
          if (!choice.button.accept || !choice.value) {
            return;
          }
          name = choice.value;
        }
        try {
          await pipelineActions.run(name);
        } catch (error) {
          // Started, but its terminal could not be shown.
          Notification.error(errorMessage(error), { autoClose: false });
        }
        if (!pipelines.pipeline(name)?.running) {
          // Not started, or over at once: the panel shows the error and the status.
          app.shell.activateById(pipelinesPanel.id);
        }
      }
    });
    app.commands.addCommand(CommandIDs.editPipelines, {
      label: trans.__('Workspace: Edit Pipelines'),
      caption: trans.__(
        'Open workspace.toml in the editor (created from an example if missing)'
      ),
      describedBy: NO_ARGS,
      execute: () => pipelineActions.editConfig()
    });
    app.commands.addCommand(CommandIDs.openRun, {
      label: args =>
        typeof args.id === 'number'
          ? trans.__('Workspace: Open Pipeline Run %1', args.id)
          : trans.__('Workspace: Open Pipeline Run'),
      caption: trans.__("Open a pipeline run's output"),
      describedBy: {
        args: {
          type: 'object',
          properties: { id: { type: 'number', description: 'The run' } },
          required: ['id']
        }
      },
      execute: args => pipelineActions.openRun(Number(args.id))
    });
    restorer?.restore(pipelineActions.tracker, {
      command: CommandIDs.openRun,
      args: widget => ({ id: widget.content.model.id }),
      name: widget => String(widget.content.model.id)
    });
    for (const command of [
      CommandIDs.openPipelines,
      CommandIDs.runPipeline,
      CommandIDs.editPipelines
    ]) {
      palette?.addItem({ command, category: PALETTE_CATEGORY });
    }

    client.watchSettings(settings => {
      const openTerminal = settings.get('openTerminalOnRun').composite;
      pipelineActions.openTerminalOnRun = openTerminal !== false;
    });

    void pipelines.refresh();
  }
};
