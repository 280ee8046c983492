/**
 * The Research plugin: a left-sidebar panel that queues research questions
 * and follows the jobs, a palette command "Research a question…", and a
 * notification when a job ends.
 */
import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette, Notification } from '@jupyterlab/apputils';
import { ITranslator } from '@jupyterlab/translation';

import { CommandIDs, PALETTE_CATEGORY, addShowPanelCommand } from '../commands';
import { errorMessage } from '../common/request';
import { loadTranslation } from '../common/translation';
import { IWorkspaceClient } from '../tokens';
import { RESEARCH_DEPTHS, ResearchDepth } from './researchapi';
import { ResearchModel } from './researchmodel';
import { ResearchNotifier } from './researchnotifier';
import { RESEARCH_ID, ResearchPanel } from './researchview';

export const researchPlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyter-workspace:research-panel',
  description:
    'The Research panel (left): questions answered by background jobs that write cited reports into notes.',
  autoStart: true,
  requires: [IWorkspaceClient],
  optional: [ICommandPalette, ILayoutRestorer, ITranslator],
  activate: (
    app: JupyterFrontEnd,
    client: IWorkspaceClient,
    palette: ICommandPalette | null,
    restorer: ILayoutRestorer | null,
    translator: ITranslator | null
  ): void => {
    const { events } = client;
    const trans = loadTranslation(translator);
    const model = new ResearchModel({ events });
    // The report rendered, its citations links to the files.
    const openNote = (noteId: number): Promise<void> =>
      client.noteOpener
        ? client.noteOpener(noteId, { preview: true })
        : client.openSource({ path: `@notes/${noteId}` });
    const panel = new ResearchPanel({
      model,
      trans,
      events,
      actions: { openNote }
    });
    app.shell.add(panel, 'left', { rank: 370 });
    restorer?.add(panel, RESEARCH_ID);
    // Lives as long as the page: a notification when a job ends.
    new ResearchNotifier(
      model,
      async noteId => {
        try {
          await openNote(noteId);
        } catch (error) {
          Notification.error(errorMessage(error), { autoClose: false });
        }
      },
      () => app.shell.activateById(panel.id),
      trans
    );

    addShowPanelCommand(app, CommandIDs.openResearch, {
      label: trans.__('Workspace: Open Research'),
      caption: trans.__('Show the Research panel (research jobs and reports)'),
      panel,
      focus: () => panel.focusFirst()
    });
    app.commands.addCommand(CommandIDs.research, {
      label: trans.__('Workspace: Research a Question…'),
      caption: trans.__(
        'Queue a research question: a background job writes a cited report into a note'
      ),
      describedBy: {
        args: {
          type: 'object',
          properties: {
            question: {
              type: 'string',
              description:
                'The question to queue (without it, the panel opens at its question field)'
            },
            depth: {
              type: 'string',
              enum: [...RESEARCH_DEPTHS],
              description: 'How far the job looks (default: standard)'
            }
          }
        }
      },
      execute: async args => {
        app.shell.activateById(panel.id);
        const question =
          typeof args.question === 'string' ? args.question.trim() : '';
        if (!question) {
          await panel.focusFirst();
          return;
        }
        const depth = RESEARCH_DEPTHS.includes(args.depth as ResearchDepth)
          ? (args.depth as ResearchDepth)
          : 'standard';
        try {
          await model.create({ question, depth });
        } catch (error) {
          Notification.error(
            trans.__('Could not queue the research: %1', errorMessage(error)),
            { autoClose: false }
          );
        }
      }
    });
    for (const command of [CommandIDs.research, CommandIDs.openResearch]) {
      palette?.addItem({ command, category: PALETTE_CATEGORY });
    }

    void model.refresh();
  }
};
