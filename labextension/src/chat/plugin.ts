/**
 * The Chat plugin: the AI chat in the right sidebar, grounded on the
 * workspace, and _Ask About Selection_; code blocks insert into the active
 * notebook cell or file editor.
 */
import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { IEditorTracker } from '@jupyterlab/fileeditor';
import { INotebookTracker } from '@jupyterlab/notebook';
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { ITranslator } from '@jupyterlab/translation';
import { IMessageHandler, Message, MessageLoop } from '@lumino/messaging';
import { SplitPanel, Widget } from '@lumino/widgets';

import {
  CommandIDs,
  EDITOR_SELECTORS,
  NO_ARGS,
  PALETTE_CATEGORY
} from '../commands';
import { EditorBridge, quoteSelection } from '../common/editorbridge';
import { loadTranslation } from '../common/translation';
import { IWorkspaceClient } from '../tokens';
import { ChatModel } from './chatmodel';
import { CHAT_ID, ChatPanel, focusChatInput } from './chatview';

/** A chat this narrow wraps every line of an answer; below it, it is widened. */
const USABLE_CHAT_PX = 360;

/** The width the chat is widened to: ~400 px, less in a small window. */
function chatWidth(windowWidth: number): number {
  return Math.round(Math.min(420, windowWidth * 0.35));
}

/**
 * JupyterLab opens a right-sidebar panel ~230 px wide, too narrow for answers
 * with code: the first time the chat shows in this page, widen it (taking
 * the room from the main area) unless it is already usable. Later widths
 * are the user's.
 */
function widenOnFirstShow(panel: Widget): void {
  const hook = (_: IMessageHandler, msg: Message): boolean => {
    if (msg.type === 'after-show') {
      MessageLoop.removeMessageHook(panel, hook);
      // Two frames: the split panel lays the shown sidebar out first.
      requestAnimationFrame(() => requestAnimationFrame(() => widen(panel)));
    }
    return true;
  };
  MessageLoop.installMessageHook(panel, hook);
}

function widen(panel: Widget): void {
  const split = mainSplitPanel(panel);
  if (!split || !panel.isVisible || panel.node.offsetWidth >= USABLE_CHAT_PX) {
    return;
  }
  const total = split.node.offsetWidth;
  const sizes = split.relativeSizes().map(share => share * total);
  const right = sizes.length - 1;
  // From the main area (next to the sidebar), never more than half of it.
  const grow = Math.min(chatWidth(total) - sizes[right], sizes[right - 1] / 2);
  if (grow > 0) {
    sizes[right - 1] -= grow;
    sizes[right] += grow;
    split.setRelativeSizes(sizes);
  }
}

/** The split panel of JupyterLab's left sidebar, main area and right sidebar. */
function mainSplitPanel(widget: Widget): SplitPanel | null {
  for (let parent = widget.parent; parent; parent = parent.parent) {
    if (parent instanceof SplitPanel && parent.orientation === 'horizontal') {
      return parent;
    }
  }
  return null;
}

export const chatPlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyter-workspace:chat-panel',
  description:
    'The Workspace Chat (right sidebar): questions about the served folder, answered with its passages.',
  autoStart: true,
  requires: [IWorkspaceClient, IRenderMimeRegistry],
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
    rendermime: IRenderMimeRegistry,
    palette: ICommandPalette | null,
    restorer: ILayoutRestorer | null,
    notebooks: INotebookTracker | null,
    editors: IEditorTracker | null,
    translator: ITranslator | null
  ): void => {
    const { events, sidecar } = client;
    const trans = loadTranslation(translator);
    const chat = new ChatModel({ events, sidecar, trans });
    const bridge = new EditorBridge(app, notebooks, editors, trans);
    const chatPanel = new ChatPanel({
      model: chat,
      trans,
      events,
      rendermime,
      openSource: source => client.openSource(source),
      codeActions: {
        insert: (code: string) => {
          const problem = bridge.insert(code);
          if (problem) {
            chat.showNotice(problem);
          }
          return problem;
        },
        apply: (code, target) =>
          void app.commands.execute(CommandIDs.applyCode, {
            code,
            path: target.path,
            cited: target.cited
          })
      }
    });
    app.shell.add(chatPanel, 'right', { rank: 650 });
    restorer?.add(chatPanel, CHAT_ID);
    widenOnFirstShow(chatPanel);

    const showChat = () => {
      app.shell.activateById(chatPanel.id);
    };
    app.commands.addCommand(CommandIDs.openChat, {
      label: trans.__('Workspace: Open Chat'),
      caption: trans.__('Show the Workspace Chat (right sidebar)'),
      icon: args => (args.isPalette ? undefined : chatPanel.title.icon),
      describedBy: NO_ARGS,
      execute: () => {
        showChat();
        focusChatInput();
      }
    });
    app.commands.addCommand(CommandIDs.askSelection, {
      label: trans.__('Workspace: Ask About Selection'),
      caption: trans.__(
        'Put the selected code (or the active notebook cell) into the chat input'
      ),
      describedBy: NO_ARGS,
      execute: () => {
        const selection = bridge.selection();
        showChat();
        if (selection) {
          chat.appendToInput(quoteSelection(selection));
        } else {
          chat.showNotice(
            trans.__(
              'Nothing to ask about: select some code in a notebook cell or a file editor first.'
            )
          );
        }
        focusChatInput();
      }
    });
    for (const selector of EDITOR_SELECTORS) {
      app.contextMenu.addItem({
        command: CommandIDs.askSelection,
        selector,
        rank: 20
      });
    }
    for (const command of [CommandIDs.openChat, CommandIDs.askSelection]) {
      palette?.addItem({ command, category: PALETTE_CATEGORY });
    }

    client.watchSettings(settings => {
      const model = settings.get('llmModel').composite;
      const apiBase = settings.get('llmApiBase').composite;
      chat.overrides = {
        model: typeof model === 'string' ? model : '',
        apiBase: typeof apiBase === 'string' ? apiBase : ''
      };
    });

    void chat.refresh();
  }
};
