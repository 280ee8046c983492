/**
 * Open a task's file in JupyterLab's text editor at the task's line.
 *
 * Sources may also name a note, `@notes/<id>` (search hits, chat sources,
 * detected tasks, entity mentions): those open in the Workspace sidebar.
 */
import { EditorView } from '@codemirror/view';
import { JupyterFrontEnd } from '@jupyterlab/application';
import { CodeEditor } from '@jupyterlab/codeeditor';
import { URLExt } from '@jupyterlab/coreutils';
import { IDocumentManager } from '@jupyterlab/docmanager';
import { NotebookPanel } from '@jupyterlab/notebook';
import { ServerConnection } from '@jupyterlab/services';
import { TranslationBundle } from '@jupyterlab/translation';
import { Widget } from '@lumino/widgets';
import type * as React from 'react';

import { ISource } from './api';
import { columnIndex } from './columns';
import { markLines } from './linemark';

/** The widget factory of JupyterLab's file editor. */
const EDITOR_FACTORY = 'Editor';

const NOTE_SOURCE = /^@notes\/(\d+)$/;

/** The id of the note a `@notes/<id>` source path names; `null` for a file. */
export function noteIdOf(path: string): number | null {
  const match = NOTE_SOURCE.exec(path);
  return match ? Number(match[1]) : null;
}

/** A URL that opens the file in JupyterLab, for the link's `href`. */
export function sourceHref(source: ISource): string {
  return URLExt.join(
    ServerConnection.makeSettings().baseUrl,
    'lab/tree',
    URLExt.encodeParts(source.path)
  );
}

/**
 * Whether a click on a source link is for the page to handle: a modified or
 * middle click keeps the browser's behaviour (the link in a new tab).
 */
export function isPlainClick(event: MouseEvent | React.MouseEvent): boolean {
  return (
    event.button === 0 &&
    !event.ctrlKey &&
    !event.metaKey &&
    !event.shiftKey &&
    !event.altKey
  );
}

/**
 * Open `source.path` in the file editor, put the cursor at `source.line`
 * (at `source.column`, else the line's start) and scroll it into view.
 *
 * @throws Error when the file does not exist or cannot be opened as text
 */
export async function openSource(
  app: JupyterFrontEnd,
  docManager: IDocumentManager,
  source: ISource,
  trans: TranslationBundle
): Promise<void> {
  try {
    await docManager.services.contents.get(source.path, { content: false });
  } catch {
    throw new Error(trans.__('File not found: %1', source.path));
  }
  if (typeof source.cell === 'number' && source.path.endsWith('.ipynb')) {
    return openNotebookCell(app, docManager, source, source.cell, trans);
  }
  const widget = docManager.openOrReveal(source.path, EDITOR_FACTORY);
  if (!widget) {
    throw new Error(trans.__('Cannot open %1 in the editor.', source.path));
  }
  app.shell.activateById(widget.id);
  await widget.context.ready;
  await widget.revealed;

  const editor = (widget.content as Widget & { editor?: CodeEditor.IEditor })
    .editor;
  if (!editor) {
    return;
  }
  if (source.line) {
    const last = Math.max(0, editor.lineCount - 1);
    const line = Math.min(source.line - 1, last);
    const column = source.column
      ? columnIndex(editor.getLine(line) ?? '', source.column)
      : 0;
    const position = { line, column };
    editor.setCursorPosition(position);
    if (source.end_line) {
      markLines(editor, source.line, source.end_line);
    }
    centerLine(editor, position.line);
    // The editor may lay out once more after it is shown: center again then.
    requestAnimationFrame(() => {
      if (!widget.isDisposed) {
        centerLine(editor, position.line);
      }
    });
  }
  editor.focus();
}

/**
 * Open a notebook (its default view), select cell `cell` (a search hit's cell
 * index), scroll it into view and put its cursor at `source.line`, counted from
 * the cell's first line.
 */
async function openNotebookCell(
  app: JupyterFrontEnd,
  docManager: IDocumentManager,
  source: ISource,
  cell: number,
  trans: TranslationBundle
): Promise<void> {
  const widget = docManager.openOrReveal(source.path);
  if (!widget) {
    throw new Error(trans.__('Cannot open %1.', source.path));
  }
  app.shell.activateById(widget.id);
  await widget.context.ready;
  await widget.revealed;
  if (!(widget instanceof NotebookPanel)) {
    return;
  }
  const notebook = widget.content;
  if (!notebook.widgets.length) {
    return;
  }
  const index = Math.max(0, Math.min(cell, notebook.widgets.length - 1));
  notebook.activeCellIndex = index;
  const active = notebook.widgets[index];
  await notebook.scrollToCell(active, 'center');
  const editor = active.editor;
  if (editor && source.line) {
    const last = Math.max(0, editor.lineCount - 1);
    editor.setCursorPosition({
      line: Math.min(source.line - 1, last),
      column: 0
    });
    if (source.end_line) {
      markLines(editor, source.line, source.end_line);
    }
  }
  active.node.focus();
}

/**
 * Scroll a line to the middle of the editor, so it has context above and
 * below; falls back to the generic "scroll into view" for other editors.
 */
function centerLine(editor: CodeEditor.IEditor, line: number): void {
  const view = (editor as CodeEditor.IEditor & { editor?: unknown }).editor;
  if (view instanceof EditorView) {
    const from = view.state.doc.line(line + 1).from;
    view.dispatch({
      effects: EditorView.scrollIntoView(from, { y: 'center' })
    });
  } else {
    editor.revealPosition({ line, column: 0 });
  }
}
