/**
 * The open problems as CodeMirror diagnostics in the file editors: an
 * underline at the file:line:column a tool reported (the whole line when it
 * gave no column), a marker in the lint gutter, the message on hover. They
 * follow the text as it is edited, and go when the run that found them is
 * superseded by a passing one.
 */
import { Diagnostic, lintGutter, setDiagnostics } from '@codemirror/lint';
import type { Extension } from '@codemirror/state';
import { EditorView } from '@codemirror/view';
import { CodeEditor } from '@jupyterlab/codeeditor';
import { IEditorTracker } from '@jupyterlab/fileeditor';
import { TranslationBundle } from '@jupyterlab/translation';

import { columnIndex } from '../common/columns';
import { IProblem, ProblemsModel } from './problemsmodel';

/** A JupyterLab editor that may be CodeMirror 6 (the default). */
type HostEditor = CodeEditor.IEditor & {
  editor?: unknown;
  injectExtension?: (extension: Extension) => void;
};

/** The lint marks in JupyterLab's colours, light and dark (CodeMirror's are fixed). */
const THEME = EditorView.baseTheme({
  '.cm-lintRange-error': {
    backgroundImage: 'none',
    textDecoration: 'underline wavy var(--jp-error-color1)',
    textDecorationSkipInk: 'none'
  },
  '.cm-lint-marker-error': {
    content: 'none',
    width: '0.7em',
    height: '0.7em',
    marginTop: '0.25em',
    borderRadius: '50%',
    background: 'var(--jp-error-color1)'
  },
  '.cm-tooltip-lint': {
    border: 'var(--jp-border-width) solid var(--jp-border-color1)',
    background: 'var(--jp-layout-color1)',
    color: 'var(--jp-ui-font-color1)'
  },
  '.cm-diagnostic-error': {
    borderLeftColor: 'var(--jp-error-color1)'
  }
});

/** A file editor's document widget. */
type EditorWidget = NonNullable<IEditorTracker['currentWidget']>;

export class EditorDiagnostics {
  constructor(
    private _model: ProblemsModel,
    private _editors: IEditorTracker,
    private _trans: TranslationBundle
  ) {
    _model.changed.connect(this._applyAll, this);
    _editors.widgetAdded.connect((_, widget) => {
      void widget.context.ready.then(() => this._apply(widget));
      widget.context.pathChanged.connect(() => this._apply(widget));
    });
    this._applyAll();
  }

  private _applyAll(): void {
    this._editors.forEach(widget => {
      if (widget.context.isReady) {
        this._apply(widget);
      }
    });
  }

  private _apply(widget: EditorWidget): void {
    if (widget.isDisposed) {
      return;
    }
    const host = widget.content.editor as HostEditor;
    const view = host.editor;
    if (!(view instanceof EditorView)) {
      return;
    }
    const problems = this._model.problemsIn(widget.context.path);
    if (problems.length && !this._gutters.has(view) && host.injectExtension) {
      host.injectExtension([lintGutter(), THEME]);
      this._gutters.add(view);
    }
    const diagnostics = problems
      .filter(problem => problem.line !== null)
      .map(problem => this._diagnostic(view, problem));
    view.dispatch(setDiagnostics(view.state, diagnostics));
  }

  /** Where in the document a problem is, clamped to the text as it is now. */
  private _diagnostic(view: EditorView, problem: IProblem): Diagnostic {
    const { doc } = view.state;
    const line = doc.line(Math.max(1, Math.min(problem.line ?? 1, doc.lines)));
    let from: number;
    let to: number;
    if (problem.column) {
      from = line.from + columnIndex(line.text, problem.column);
      // The word the column points at (a caret under a token), else one character.
      const word = view.state.wordAt(from);
      to = word && word.from === from ? word.to : Math.min(from + 1, line.to);
    } else {
      from = line.from + (line.text.length - line.text.trimStart().length);
      to = line.to;
    }
    return {
      from,
      to,
      severity: problem.severity,
      source: this._trans.__('pipeline %1', problem.pipeline),
      message: problem.message
    };
  }

  private _gutters = new WeakSet<EditorView>();
}
