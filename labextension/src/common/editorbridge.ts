/**
 * The chat's way into the editors: insert code at the cursor of the active
 * notebook cell or file editor, read the selection to ask about or search for.
 *
 * Both trackers are optional: without the notebook or file editor plugins
 * the chat says there is no editor.
 */
import { JupyterFrontEnd } from '@jupyterlab/application';
import { CodeEditor } from '@jupyterlab/codeeditor';
import { IEditorTracker } from '@jupyterlab/fileeditor';
import { INotebookTracker } from '@jupyterlab/notebook';
import { TranslationBundle } from '@jupyterlab/translation';
import { Widget } from '@lumino/widgets';

/** An editor the chat can write to or read from. */
interface ITarget {
  editor: CodeEditor.IEditor;
  /** The document widget holding it (activated after an insert). */
  widget: Widget;
  kind: 'notebook' | 'file';
  path: string;
  /** The notebook's language, or '' for files (taken from the extension). */
  language: string;
}

/** A selection to ask about. */
export interface ISelection {
  text: string;
  language: string;
  /** Where it comes from, e.g. "`src/main.py`, lines 3–7". */
  where: string;
}

const LANGUAGES: Record<string, string> = {
  py: 'python',
  pyi: 'python',
  ipy: 'python',
  ts: 'typescript',
  tsx: 'tsx',
  js: 'javascript',
  jsx: 'jsx',
  mjs: 'javascript',
  json: 'json',
  md: 'markdown',
  sh: 'bash',
  bash: 'bash',
  c: 'c',
  h: 'c',
  cc: 'cpp',
  cpp: 'cpp',
  hpp: 'cpp',
  rs: 'rust',
  go: 'go',
  java: 'java',
  kt: 'kotlin',
  rb: 'ruby',
  r: 'r',
  jl: 'julia',
  sql: 'sql',
  yaml: 'yaml',
  yml: 'yaml',
  toml: 'toml',
  html: 'html',
  css: 'css',
  tex: 'latex'
};

function languageOf(path: string): string {
  const match = /\.([^./]+)$/.exec(path);
  return match ? (LANGUAGES[match[1].toLowerCase()] ?? '') : '';
}

/** A fence longer than any backtick run in the text. */
function fenceFor(text: string): string {
  const runs = text.match(/`+/g) ?? [];
  const longest = runs.reduce((max, run) => Math.max(max, run.length), 0);
  return '`'.repeat(Math.max(3, longest + 1));
}

/** The selection as markdown for the chat input: a caption and a fenced block. */
export function quoteSelection(selection: ISelection): string {
  const fence = fenceFor(selection.text);
  const body = selection.text.replace(/\n$/, '');
  return `From ${selection.where}:\n\n${fence}${selection.language}\n${body}\n${fence}\n\n`;
}

export class EditorBridge {
  constructor(
    private _app: JupyterFrontEnd,
    private _notebooks: INotebookTracker | null,
    private _editors: IEditorTracker | null,
    private _trans: TranslationBundle
  ) {}

  /** True when a notebook cell or file editor can take an insert. */
  get hasEditor(): boolean {
    return this._target() !== null;
  }

  /**
   * Insert text at the cursor (replacing the selection) and focus the editor.
   *
   * @returns `null` when done, else why not
   */
  insert(text: string): string | null {
    const target = this._target();
    if (!target) {
      return this._trans.__(
        'No editor to insert into: open a notebook or a file in the main area and put the cursor where the code should go.'
      );
    }
    const { editor } = target;
    const range = editor.getSelection();
    const from =
      range.start.line < range.end.line ||
      (range.start.line === range.end.line &&
        range.start.column <= range.end.column)
        ? range.start
        : range.end;
    // A block put at the start of a line keeps what follows on its own line.
    if (from.column === 0 && !text.endsWith('\n')) {
      text += '\n';
    }
    if (editor.replaceSelection) {
      editor.replaceSelection(text);
    } else {
      const start = editor.getOffsetAt(range.start);
      const end = editor.getOffsetAt(range.end);
      editor.model.sharedModel.updateSource(
        Math.min(start, end),
        Math.max(start, end),
        text
      );
    }
    this._app.shell.activateById(target.widget.id);
    editor.focus();
    return null;
  }

  /**
   * The selected text of the active editor; a notebook cell without a
   * selection gives the whole cell. `null` when there is nothing to quote.
   */
  selection(): ISelection | null {
    const target = this._target();
    if (!target) {
      return null;
    }
    const { editor } = target;
    const source = editor.model.sharedModel.getSource();
    const range = editor.getSelection();
    let start = editor.getOffsetAt(range.start);
    let end = editor.getOffsetAt(range.end);
    if (start > end) {
      [start, end] = [end, start];
    }
    let text = source.slice(start, end);
    let where = `\`${target.path}\``;
    if (target.kind === 'notebook') {
      if (!text.trim()) {
        text = source;
      }
    } else {
      const [from, to] =
        start === editor.getOffsetAt(range.start)
          ? [range.start, range.end]
          : [range.end, range.start];
      const first = from.line + 1;
      // A selection ending at the start of a line does not include that line.
      const last =
        to.column === 0 && to.line > from.line ? to.line : to.line + 1;
      where += first === last ? `, line ${first}` : `, lines ${first}–${last}`;
    }
    if (!text.trim()) {
      return null;
    }
    return {
      text,
      language: target.language || languageOf(target.path),
      where
    };
  }

  /**
   * What to search for from the active editor: its selection, else the word
   * at the cursor; `''` when there is neither.
   */
  searchText(): string {
    const target = this._target();
    if (!target) {
      return '';
    }
    const { editor } = target;
    const range = editor.getSelection();
    const start = editor.getOffsetAt(range.start);
    const end = editor.getOffsetAt(range.end);
    const text = editor.model.sharedModel
      .getSource()
      .slice(Math.min(start, end), Math.max(start, end));
    if (text.trim()) {
      return text;
    }
    try {
      const token = editor.getTokenAtCursor();
      return /\w/.test(token.value) ? token.value.trim() : '';
    } catch {
      return '';
    }
  }

  private _target(): ITarget | null {
    const current = this._app.shell.currentWidget;
    const notebook = this._notebooks?.currentWidget ?? null;
    const file = this._editors?.currentWidget ?? null;
    // The main area's current document first; else a visible one.
    const candidates: Array<'notebook' | 'file'> =
      file && file === current ? ['file', 'notebook'] : ['notebook', 'file'];
    for (const kind of candidates) {
      if (kind === 'notebook' && notebook) {
        if (notebook !== current && !notebook.isVisible) {
          continue;
        }
        const cell = notebook.content.activeCell;
        const editor = cell?.editor;
        if (!cell || !editor) {
          continue;
        }
        const info = notebook.content.model?.getMetadata('language_info') as
          { name?: unknown } | undefined;
        return {
          editor,
          widget: notebook,
          kind,
          path: notebook.context.path,
          language:
            cell.model.type === 'code' && typeof info?.name === 'string'
              ? info.name
              : cell.model.type === 'markdown'
                ? 'markdown'
                : ''
        };
      }
      if (kind === 'file' && file) {
        if (file !== current && !file.isVisible) {
          continue;
        }
        return {
          editor: file.content.editor,
          widget: file,
          kind,
          path: file.context.path,
          language: ''
        };
      }
    }
    return null;
  }
}
