/**
 * The Workspace sidebar plugin: the Notes and Tasks sections, their commands,
 * and saving the open note when the sidebar hides or the page goes away.
 */
import {
  ILabShell,
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { ITranslator } from '@jupyterlab/translation';

import { CommandIDs, NO_ARGS, PALETTE_CATEGORY } from '../commands';
import { loadTranslation } from '../common/translation';
import { TasksModel } from '../tasks/tasksmodel';
import { IWorkspaceClient } from '../tokens';
import { NotesModel } from './notesmodel';
import { SIDEBAR_ID, WorkspaceSidebar } from './sidebar';

export const notesPlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyter-workspace:notes',
  description:
    'The Workspace sidebar (left): notes of the served folder and its tasks.',
  autoStart: true,
  requires: [IWorkspaceClient, IRenderMimeRegistry],
  optional: [ICommandPalette, ILayoutRestorer, ILabShell, ITranslator],
  activate: (
    app: JupyterFrontEnd,
    client: IWorkspaceClient,
    rendermime: IRenderMimeRegistry,
    palette: ICommandPalette | null,
    restorer: ILayoutRestorer | null,
    labShell: ILabShell | null,
    translator: ITranslator | null
  ): void => {
    const { events } = client;
    const trans = loadTranslation(translator);
    const notes = new NotesModel({ events, trans });
    const tasks = new TasksModel({ events });
    const sidebar = new WorkspaceSidebar({
      events,
      trans,
      notes,
      tasks,
      rendermime,
      openSource: source => client.openSource(source)
    });
    app.shell.add(sidebar, 'left', { rank: 350 });
    restorer?.add(sidebar, SIDEBAR_ID);

    const show = () => {
      app.shell.activateById(sidebar.id);
    };
    client.noteOpener = async (id, options) => {
      show();
      sidebar.showNotes();
      await notes.open(id);
      if (options?.preview && notes.draft?.id === id) {
        notes.requestPreview();
      }
    };

    // Save the open note when the sidebar is hidden or the page goes away.
    labShell?.layoutModified.connect(() => {
      if (!sidebar.isVisible) {
        void notes.flush();
      }
    });
    window.addEventListener('beforeunload', () => {
      if (notes.draft?.hasUnsavedChanges) {
        // keepalive lets the request finish after the page is gone.
        void notes.flush({ keepalive: true });
      }
    });

    app.commands.addCommand(CommandIDs.open, {
      label: trans.__('Workspace: Open'),
      caption: trans.__('Show the Workspace sidebar (notes and tasks)'),
      icon: args => (args.isPalette ? undefined : sidebar.title.icon),
      describedBy: NO_ARGS,
      execute: () => {
        show();
      }
    });
    app.commands.addCommand(CommandIDs.newNote, {
      label: trans.__('Workspace: New Note'),
      caption: trans.__('Create a note and open it in the Workspace sidebar'),
      describedBy: NO_ARGS,
      execute: async () => {
        show();
        sidebar.showNotes();
        if (await notes.create()) {
          await sidebar.focusNoteTitle();
        }
      }
    });
    app.commands.addCommand(CommandIDs.newTask, {
      label: trans.__('Workspace: New Task'),
      caption: trans.__('Put the cursor in the Workspace new-task field'),
      describedBy: NO_ARGS,
      execute: async () => {
        show();
        await sidebar.focusNewTask();
      }
    });
    for (const command of [
      CommandIDs.open,
      CommandIDs.newNote,
      CommandIDs.newTask
    ]) {
      palette?.addItem({ command, category: PALETTE_CATEGORY });
    }

    client.watchSettings(settings => {
      const delay = settings.get('autosaveDelay').composite;
      if (typeof delay === 'number') {
        notes.autosaveDelay = delay;
      }
    });

    void notes.refresh();
    void tasks.refresh();
  }
};
