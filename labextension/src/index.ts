import {
  ILabShell,
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
import { IEditorTracker } from '@jupyterlab/fileeditor';
import { INotebookTracker } from '@jupyterlab/notebook';
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { IStatusBar } from '@jupyterlab/statusbar';
import { Widget } from '@lumino/widgets';

import { ChatModel } from './chat/chatmodel';
import { CHAT_ID, ChatPanel, focusChatInput } from './chat/chatview';
import { SidecarModel } from './chat/sidecarmodel';
import { SidecarNotifier, createSidecarStatusItem } from './chat/sidecarstatus';
import { ISource } from './common/api';
import { EditorBridge, quoteSelection } from './common/editorbridge';
import { WorkspaceEvents } from './common/events';
import { noteIdOf, openSource } from './common/opensource';
import { errorMessage, setServerSettings } from './common/request';
import { handleOpenSourceRequests } from './common/sourcerequest';
import { magicsLoaderPlugin } from './magics/magicsloader';
import { NotesModel } from './notes/notesmodel';
import { SIDEBAR_ID, WorkspaceSidebar } from './notes/sidebar';
import { PipelineActions } from './pipelines/pipelineactions';
import { PipelineNotifier } from './pipelines/pipelinenotifier';
import { PipelinesModel } from './pipelines/pipelinesmodel';
import { PIPELINES_ID, PipelinesPanel } from './pipelines/pipelinesview';
import { IndexModel } from './search/indexmodel';
import { MAX_QUERY_CHARS, SearchModel } from './search/searchmodel';
import { SEARCH_ID, SearchPanel } from './search/searchview';
import { TasksModel } from './tasks/tasksmodel';

const PLUGIN_ID = 'jupyter-workspace:plugin';

namespace CommandIDs {
  export const open = 'workspace:open';
  export const newNote = 'workspace:new-note';
  export const newTask = 'workspace:new-task';
  export const openChat = 'workspace:open-chat';
  export const askSelection = 'workspace:ask-selection';
  export const openSearch = 'workspace:open-search';
  export const searchSelection = 'workspace:search-selection';
  export const restartSidecar = 'workspace:restart-sidecar';
  export const openPipelines = 'workspace:open-pipelines';
  export const runPipeline = 'workspace:run-pipeline';
  export const editPipelines = 'workspace:edit-pipelines';
  export const openRun = 'workspace:open-run';
}

const PALETTE_CATEGORY = 'Workspace';

const plugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description:
    'Notes, tasks, search and pipelines for the served folder (left sidebar) and the AI chat (right sidebar).',
  autoStart: true,
  requires: [IRenderMimeRegistry, IDocumentManager],
  optional: [
    ICommandPalette,
    ILayoutRestorer,
    ISettingRegistry,
    ILabShell,
    IStatusBar,
    INotebookTracker,
    IEditorTracker
  ],
  activate: (
    app: JupyterFrontEnd,
    rendermime: IRenderMimeRegistry,
    docManager: IDocumentManager,
    palette: ICommandPalette | null,
    restorer: ILayoutRestorer | null,
    settingRegistry: ISettingRegistry | null,
    labShell: ILabShell | null,
    statusBar: IStatusBar | null,
    notebooks: INotebookTracker | null,
    editors: IEditorTracker | null
  ): void => {
    setServerSettings(app.serviceManager.serverSettings);

    const events = new WorkspaceEvents(app.serviceManager.serverSettings);
    const notes = new NotesModel({ events });
    const tasks = new TasksModel({ events });
    // Search hits and chat sources name notes as `@notes/<id>`: those open in the sidebar.
    const open = async (source: ISource): Promise<void> => {
      const note = noteIdOf(source.path);
      if (note === null) {
        return openSource(app, docManager, source);
      }
      app.shell.activateById(sidebar.id);
      sidebar.showNotes();
      await notes.open(note);
    };
    // The links of the %workspace results tables in notebook outputs (resultsview.tsx).
    handleOpenSourceRequests(document.body, open);
    const sidebar = new WorkspaceSidebar({
      events,
      notes,
      tasks,
      rendermime,
      openSource: open
    });
    app.shell.add(sidebar, 'left', { rank: 350 });
    restorer?.add(sidebar, SIDEBAR_ID);

    // Search over the index, in its own left-sidebar panel.
    const index = new IndexModel({ events });
    const search = new SearchModel({ index });
    const searchPanel = new SearchPanel({
      model: search,
      index,
      events,
      openSource: open
    });
    app.shell.add(searchPanel, 'left', { rank: 355 });
    restorer?.add(searchPanel, SEARCH_ID);

    // Pipelines of workspace.toml, their runs in terminals and output views.
    const pipelines = new PipelinesModel({ events });
    const pipelineActions = new PipelineActions({
      app,
      docManager,
      events,
      model: pipelines,
      openSource: open
    });
    const pipelinesPanel = new PipelinesPanel({
      model: pipelines,
      events,
      actions: pipelineActions
    });
    app.shell.add(pipelinesPanel, 'left', { rank: 360 });
    restorer?.add(pipelinesPanel, PIPELINES_ID);
    // Lives as long as the page: notifications when runs fail or pass again.
    new PipelineNotifier(pipelines, id => pipelineActions.openRun(id));

    // The AI chat in the right sidebar, the sidecar's state in the status bar.
    const sidecar = new SidecarModel({ events });
    const chat = new ChatModel({ events, sidecar });
    const bridge = new EditorBridge(app, notebooks, editors);
    const chatPanel = new ChatPanel({
      model: chat,
      events,
      rendermime,
      openSource: open,
      codeActions: {
        insert: (code: string) => {
          const problem = bridge.insert(code);
          if (problem) {
            chat.showNotice(problem);
          }
          return problem;
        }
      }
    });
    app.shell.add(chatPanel, 'right', { rank: 650 });
    restorer?.add(chatPanel, CHAT_ID);

    const showChat = () => {
      app.shell.activateById(chatPanel.id);
    };
    if (statusBar) {
      statusBar.registerStatusItem('jupyter-workspace:sidecar-status', {
        item: createSidecarStatusItem(sidecar, showChat),
        align: 'left',
        rank: 50
      });
    }
    // Lives as long as the page: a notification while the sidecar is degraded.
    new SidecarNotifier(sidecar);

    void notes.refresh();
    void tasks.refresh();
    void sidecar.refresh();
    void chat.refresh();
    void index.refresh();
    void pipelines.refresh();
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
    app.commands.addCommand(CommandIDs.openChat, {
      label: 'Workspace: Open Chat',
      caption: 'Show the Workspace Chat (right sidebar)',
      icon: args => (args.isPalette ? undefined : chatPanel.title.icon),
      execute: () => {
        showChat();
        focusChatInput();
      }
    });
    app.commands.addCommand(CommandIDs.askSelection, {
      label: 'Workspace: Ask About Selection',
      caption:
        'Put the selected code (or the active notebook cell) into the chat input',
      execute: () => {
        const selection = bridge.selection();
        showChat();
        if (selection) {
          chat.appendToInput(quoteSelection(selection));
        } else {
          chat.showNotice(
            'Nothing to ask about: select some code in a notebook cell or a file editor first.'
          );
        }
        focusChatInput();
      }
    });
    /** A command that shows a left-sidebar panel and focuses its first control. */
    const addShowPanelCommand = (
      id: string,
      label: string,
      caption: string,
      panel: Widget,
      focus: () => Promise<void>
    ) => {
      app.commands.addCommand(id, {
        label,
        caption,
        icon: args => (args.isPalette ? undefined : panel.title.icon),
        execute: async () => {
          app.shell.activateById(panel.id);
          await focus();
        }
      });
    };
    addShowPanelCommand(
      CommandIDs.openSearch,
      'Workspace: Open Search',
      'Show the Workspace Search panel (code and docs of the folder)',
      searchPanel,
      () => searchPanel.focusInput()
    );
    app.commands.addCommand(CommandIDs.searchSelection, {
      label: 'Workspace: Search for Selection',
      caption:
        'Search the workspace for the selected text (or the word at the cursor)',
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
    app.commands.addCommand(CommandIDs.restartSidecar, {
      label: 'Workspace: Restart AI Sidecar',
      caption:
        'Restart the AI sidecar (leaves degraded mode; its retries start again)',
      execute: () => sidecar.restart()
    });
    addShowPanelCommand(
      CommandIDs.openPipelines,
      'Workspace: Open Pipelines',
      'Show the Pipelines panel (the commands of workspace.toml)',
      pipelinesPanel,
      () => pipelinesPanel.focusFirst()
    );
    app.commands.addCommand(CommandIDs.runPipeline, {
      label: args =>
        typeof args.name === 'string' && args.name
          ? `Workspace: Run Pipeline ${args.name}`
          : 'Workspace: Run Pipeline…',
      caption: 'Run a pipeline of workspace.toml in a terminal',
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
            title: 'Run Pipeline',
            label: 'Pipeline',
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
      label: 'Workspace: Edit Pipelines',
      caption:
        'Open workspace.toml in the editor (created from an example if missing)',
      execute: () => pipelineActions.editConfig()
    });
    app.commands.addCommand(CommandIDs.openRun, {
      label: args =>
        typeof args.id === 'number'
          ? `Workspace: Open Pipeline Run ${args.id}`
          : 'Workspace: Open Pipeline Run',
      caption: "Open a pipeline run's output",
      execute: args => pipelineActions.openRun(Number(args.id))
    });
    restorer?.restore(pipelineActions.tracker, {
      command: CommandIDs.openRun,
      args: widget => ({ id: widget.content.model.id }),
      name: widget => String(widget.content.model.id)
    });

    app.contextMenu.addItem({
      command: CommandIDs.askSelection,
      selector: '.jp-FileEditor',
      rank: 20
    });
    app.contextMenu.addItem({
      command: CommandIDs.askSelection,
      selector: '.jp-Notebook .jp-Cell',
      rank: 20
    });
    app.contextMenu.addItem({
      command: CommandIDs.searchSelection,
      selector: '.jp-FileEditor',
      rank: 21
    });
    app.contextMenu.addItem({
      command: CommandIDs.searchSelection,
      selector: '.jp-Notebook .jp-Cell',
      rank: 21
    });

    if (palette) {
      for (const command of [
        CommandIDs.open,
        CommandIDs.newNote,
        CommandIDs.newTask,
        CommandIDs.openChat,
        CommandIDs.askSelection,
        CommandIDs.openSearch,
        CommandIDs.searchSelection,
        CommandIDs.restartSidecar,
        CommandIDs.openPipelines,
        CommandIDs.runPipeline,
        CommandIDs.editPipelines
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
            const model = settings.get('llmModel').composite;
            const apiBase = settings.get('llmApiBase').composite;
            const openTerminal = settings.get('openTerminalOnRun').composite;
            pipelineActions.openTerminalOnRun = openTerminal !== false;
            chat.overrides = {
              model: typeof model === 'string' ? model : '',
              apiBase: typeof apiBase === 'string' ? apiBase : ''
            };
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

export default [plugin, magicsLoaderPlugin];
