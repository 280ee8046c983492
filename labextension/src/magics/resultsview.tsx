/**
 * The table `%workspace` shows for search hits, tasks and notes
 * (`application/vnd.jupyter-workspace.results+json`), whose locations open
 * the file at its line in JupyterLab's editor.
 *
 * The payload comes from a notebook, which may be untrusted: every value is
 * shown as text, never as HTML.
 */
import type { IRenderMime } from '@jupyterlab/rendermime';
import { TranslationBundle } from '@jupyterlab/translation';
import { ReactWidget } from '@jupyterlab/ui-components';
import { MessageLoop } from '@lumino/messaging';
import { Widget } from '@lumino/widgets';
import * as React from 'react';

import { ISource, parseSource } from '../common/api';
import { noteIdOf, sourceHref } from '../common/opensource';
import { errorMessage } from '../common/request';
import { SourceLink } from '../common/sourcelink';
import { requestOpenSource } from '../common/sourcerequest';
import {
  loadTranslation,
  translated,
  useTranslation
} from '../common/translation';

export const RESULTS_MIME_TYPE =
  'application/vnd.jupyter-workspace.results+json';

/** The column whose values are `path:line` links. */
const LOCATION = 'location';
/** Snippets show their first line, cut as the text/plain table cuts them. */
const SNIPPET = 'snippet';
const SNIPPET_CHARS = 120;

type Row = Record<string, unknown>;

interface IResults {
  title: string;
  columns: string[];
  rows: Row[];
}

/** The payload, checked; `null` when it is not a results table. */
export function readResults(data: unknown): IResults | null {
  if (!isObject(data)) {
    return null;
  }
  const { title, columns, rows } = data;
  if (
    !Array.isArray(columns) ||
    !columns.every(c => typeof c === 'string') ||
    !Array.isArray(rows) ||
    !rows.every(isObject)
  ) {
    return null;
  }
  return {
    title: typeof title === 'string' ? title : '',
    columns: columns as string[],
    rows: rows as Row[]
  };
}

function isObject(value: unknown): value is Row {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A cell's text, as the kernel's text/plain table writes it. */
function cellText(row: Row, column: string): string {
  const value = row[column];
  if (value === null || value === undefined) {
    return '';
  }
  if (column === SNIPPET && typeof value === 'string') {
    const first = value.trim().split('\n')[0] ?? '';
    return first.slice(0, SNIPPET_CHARS);
  }
  if (typeof value === 'number' && !Number.isInteger(value)) {
    return value.toPrecision(3);
  }
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

/** Where a row's `location` (`path:line`, `path` or `@notes/<id>:line`) points. */
function locationOf(row: Row, trans: TranslationBundle): ISource | null {
  const location = row[LOCATION];
  if (typeof location !== 'string') {
    return null;
  }
  try {
    return parseSource(location, trans);
  } catch {
    return null; // shown as text
  }
}

/** The rendered table. */
export function ResultsTable(props: { results: IResults }): JSX.Element {
  const { title, columns, rows } = props.results;
  const trans = useTranslation();
  const node = React.useRef<HTMLDivElement>(null);
  const [error, setError] = React.useState('');

  const open = async (source: ISource) => {
    setError('');
    const opened = node.current && requestOpenSource(node.current, source);
    if (opened) {
      try {
        await opened;
      } catch (reason) {
        setError(errorMessage(reason));
      }
    } else if (noteIdOf(source.path) === null) {
      // Nothing on the page opens sources (the Workspace plugin is off): the
      // link's own address, in a new tab as a modified click would.
      window.open(sourceHref(source), '_blank', 'noopener');
    } else {
      setError(
        trans.__('Notes open in the Workspace sidebar, which is not loaded.')
      );
    }
  };

  return (
    <div className="jp-Workspace-results" ref={node}>
      {title && <div className="jp-Workspace-resultsTitle">{title}</div>}
      {rows.length > 0 && (
        <table className="jp-Workspace-resultsTable">
          <thead>
            <tr>
              {columns.map(column => (
                <th key={column}>{column}</th>
              ))}
            </tr>
          </thead>
          <tbody>
            {rows.map((row, index) => (
              <tr key={index}>
                {columns.map(column => (
                  <td key={column} data-column={column}>
                    <Cell row={row} column={column} onOpen={open} />
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {error && (
        <div className="jp-Workspace-resultsError" role="alert">
          {error}
        </div>
      )}
    </div>
  );
}

function Cell(props: {
  row: Row;
  column: string;
  onOpen: (source: ISource) => Promise<void>;
}): JSX.Element {
  const { row, column, onOpen } = props;
  const trans = useTranslation();
  const text = cellText(row, column);
  const source = column === LOCATION ? locationOf(row, trans) : null;
  if (!source) {
    return <>{text}</>;
  }
  return (
    <SourceLink
      source={source}
      className="jp-Workspace-resultsLocation"
      onOpen={() => void onOpen(source)}
    >
      {text}
    </SourceLink>
  );
}

/** The MIME renderer: the table, or a line saying the payload is not one. */
export class ResultsRenderer
  extends ReactWidget
  implements IRenderMime.IRenderer
{
  constructor(options: IRenderMime.IRendererOptions) {
    super();
    this._mimeType = options.mimeType;
    // The output area passes the application's translator, when it has one.
    this._trans = loadTranslation(options.translator ?? null);
    this.addClass('jp-Workspace-resultsOutput');
  }

  async renderModel(model: IRenderMime.IMimeModel): Promise<void> {
    this._results = readResults(model.data[this._mimeType]);
    // Render now, so the output has its size when this promise settles.
    MessageLoop.sendMessage(this, Widget.Msg.UpdateRequest);
    await this.renderPromise;
  }

  protected render(): JSX.Element {
    if (!this._results) {
      return (
        <div className="jp-Workspace-resultsError">
          {this._trans.__(
            'This %workspace output cannot be shown: its data is not a results table.'
          )}
        </div>
      );
    }
    return translated(this._trans, <ResultsTable results={this._results} />);
  }

  private readonly _mimeType: string;
  private readonly _trans: TranslationBundle;
  private _results: IResults | null = null;
}
