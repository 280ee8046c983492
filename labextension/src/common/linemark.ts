/**
 * A passage marked in a CodeMirror editor: the lines a search hit covers, so
 * the eye finds them after the jump. The mark goes with the next edit or the
 * next passage opened in the same editor.
 */
import { CodeEditor } from '@jupyterlab/codeeditor';
import {
  Decoration,
  DecorationSet,
  EditorView,
  ViewPlugin,
  ViewUpdate
} from '@codemirror/view';

const MARKED_LINE = Decoration.line({ class: 'jp-Workspace-markedLine' });

class LineMark {
  decorations: DecorationSet = Decoration.none;

  update(update: ViewUpdate): void {
    if (update.docChanged) {
      this.decorations = Decoration.none;
    }
  }

  /** Mark lines `first` to `last` (1-based, clamped to the document). */
  mark(view: EditorView, first: number, last: number): void {
    const lines = view.state.doc.lines;
    const from = Math.max(1, Math.min(first, lines));
    const to = Math.max(from, Math.min(last, lines));
    const ranges = [];
    for (let line = from; line <= to; line++) {
      ranges.push(MARKED_LINE.range(view.state.doc.line(line).from));
    }
    this.decorations = Decoration.set(ranges);
    // An empty transaction: the view reads the new decorations.
    view.dispatch({});
  }
}

const lineMark = ViewPlugin.fromClass(LineMark, {
  decorations: plugin => plugin.decorations
});

/**
 * Mark lines `first` to `last` (1-based) of a JupyterLab editor; a no-op for
 * an editor that is not CodeMirror 6.
 */
export function markLines(
  editor: CodeEditor.IEditor,
  first: number,
  last: number
): void {
  const host = editor as CodeEditor.IEditor & {
    editor?: unknown;
    injectExtension?: (extension: typeof lineMark) => void;
  };
  const view = host.editor;
  if (!(view instanceof EditorView) || !host.injectExtension) {
    return;
  }
  if (!view.plugin(lineMark)) {
    host.injectExtension(lineMark);
  }
  view.plugin(lineMark)?.mark(view, first, last);
}
