import {
  ILabShell,
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { IDocumentManager } from '@jupyterlab/docmanager';
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { ISettingRegistry } from '@jupyterlab/settingregistry';

import { ISource } from './api';
import { WorkspaceEvents } from './events';
import { NotesModel } from './notesmodel';
import { openSource } from './opensource';
import { setServerSettings } from './request';
import { SIDEBAR_ID, WorkspaceSidebar } from './sidebar';
import { TasksModel } from './tasksmodel';

const PLUGIN_ID = 'jupyter-workspace:plugin';

namespace CommandIDs {
  export const open = 'workspace:open';
  export const newNote = 'workspace:new-note';
  export const newTask = 'workspace:new-task';
}

const PALETTE_CATEGORY = 'Workspace';

const plugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description: 'Notes and tasks for the served folder, in the left sidebar.',
  autoStart: true,
  requires: [IRenderMimeRegistry, IDocumentManager],
  optional: [ICommandPalette, ILayoutRestorer, ISettingRegistry, ILabShell],
  activate: (
    app: JupyterFrontEnd,
    rendermime: IRenderMimeRegistry,
    docManager: IDocumentManager,
    palette: ICommandPalette | null,
    restorer: ILayoutRestorer | null,
    settingRegistry: ISettingRegistry | null,
    labShell: ILabShell | null
  ): void => {
    setServerSettings(app.serviceManager.serverSettings);

    const events = new WorkspaceEvents(app.serviceManager.serverSettings);
    const notes = new NotesModel({ events });
    const tasks = new TasksModel({ events });
    const sidebar = new WorkspaceSidebar({
      events,
      notes,
      tasks,
      rendermime,
      openSource: (source: ISource) => openSource(app, docManager, source)
    });
    app.shell.add(sidebar, 'left', { rank: 350 });
    restorer?.add(sidebar, SIDEBAR_ID);

    void notes.refresh();
    void tasks.refresh();
    events.connect();

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

    const show = () => {
      app.shell.activateById(sidebar.id);
    };

    app.commands.addCommand(CommandIDs.open, {
      label: 'Workspace: Open',
      caption: 'Show the Workspace sidebar (notes and tasks)',
      icon: args => (args.isPalette ? undefined : sidebar.title.icon),
      execute: () => {
        show();
      }
    });
    app.commands.addCommand(CommandIDs.newNote, {
      label: 'Workspace: New Note',
      caption: 'Create a note and open it in the Workspace sidebar',
      execute: async () => {
        show();
        sidebar.showNotes();
        if (await notes.create()) {
          await sidebar.focusNoteTitle();
        }
      }
    });
    app.commands.addCommand(CommandIDs.newTask, {
      label: 'Workspace: New Task',
      caption: 'Put the cursor in the Workspace new-task field',
      execute: async () => {
        show();
        await sidebar.focusNewTask();
      }
    });
    if (palette) {
      for (const command of [
        CommandIDs.open,
        CommandIDs.newNote,
        CommandIDs.newTask
      ]) {
        palette.addItem({ command, category: PALETTE_CATEGORY });
      }
    }

    if (settingRegistry) {
      settingRegistry
        .load(PLUGIN_ID)
        .then(settings => {
          const apply = () => {
            const delay = settings.get('autosaveDelay').composite;
            if (typeof delay === 'number') {
              notes.autosaveDelay = delay;
            }
          };
          apply();
          settings.changed.connect(apply);
        })
        .catch(reason => {
          console.warn('jupyter-workspace: cannot load settings', reason);
        });
    }
  }
};

export default plugin;
