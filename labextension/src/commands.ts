/**
 * The command ids of jupyter-workspace (keyboard shortcuts and other
 * extensions use them: they do not change).
 */
import { JupyterFrontEnd } from '@jupyterlab/application';
import { Widget } from '@lumino/widgets';

export namespace CommandIDs {
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
  export const openProblems = 'workspace:open-problems';
  export const goToSymbol = 'workspace:go-to-symbol';
  export const applyCode = 'workspace:apply-code';
  export const openResearch = 'workspace:open-research';
  export const research = 'workspace:research';
  export const recoverUnsaved = 'workspace:recover-unsaved';
}

/** The command palette's category of every Workspace command. */
export const PALETTE_CATEGORY = 'Workspace';

/** The `describedBy` of a command without arguments. */
export const NO_ARGS = { args: { type: 'object', properties: {} } };

/** Where _Ask About Selection_ and _Search for Selection_ are in the context menu. */
export const EDITOR_SELECTORS = ['.jp-FileEditor', '.jp-Notebook .jp-Cell'];

/** Add a command that shows a sidebar panel and focuses its first control. */
export function addShowPanelCommand(
  app: JupyterFrontEnd,
  id: string,
  options: {
    label: string;
    caption: string;
    panel: Widget;
    focus: () => Promise<void>;
  }
): void {
  const { label, caption, panel, focus } = options;
  app.commands.addCommand(id, {
    label,
    caption,
    icon: args => (args.isPalette ? undefined : panel.title.icon),
    describedBy: NO_ARGS,
    execute: async () => {
      app.shell.activateById(panel.id);
      await focus();
    }
  });
}
