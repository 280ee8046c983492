/**
 * The answer `%workspace ask` and `%%workspace chat` show
 * (`application/vnd.jupyter-workspace.answer+json`: `{markdown, sources}`):
 * the markdown through the always-sanitizing renderer, its `[path:line]`
 * citations as links, and its sources as the results table of
 * `%workspace search`; every link opens the file at its line.
 *
 * The payload comes from a notebook, which may be untrusted: the markdown is
 * sanitized, citations are made of text nodes, the sources table shows text.
 */
import { MimeModel } from '@jupyterlab/rendermime';
import type { IRenderMime } from '@jupyterlab/rendermime';
import { TranslationBundle } from '@jupyterlab/translation';
import { Panel, Widget } from '@lumino/widgets';

import { ISource } from '../common/api';
import {
  HostileMarkdownRenderer,
  MARKDOWN_MIME_TYPE
} from '../common/hostilemarkdown';
import { isPlainClick, sourceHref } from '../common/opensource';
import { errorMessage } from '../common/request';
import { requestOpenSource } from '../common/sourcerequest';
import { loadTranslation } from '../common/translation';
import { linkCitations } from '../chat/chatmarkdown';
import { ISourceRef } from '../search/searchapi';
import { RESULTS_MIME_TYPE, ResultsRenderer } from './resultsview';

export const ANSWER_MIME_TYPE = 'application/vnd.jupyter-workspace.answer+json';

interface IAnswer {
  markdown: string;
  sources: ISourceRef[];
}

/** The payload, checked; `null` when it is not an answer. Bad sources are left out. */
export function readAnswer(data: unknown): IAnswer | null {
  if (!isObject(data) || typeof data.markdown !== 'string') {
    return null;
  }
  const sources = Array.isArray(data.sources) ? data.sources : [];
  return {
    markdown: data.markdown,
    sources: sources.filter(isObject).flatMap(readSource)
  };
}

function readSource(value: Record<string, unknown>): ISourceRef[] {
  const { path, start_line, end_line, symbol, kind, cell } = value;
  if (typeof path !== 'string' || !path || !isLine(start_line)) {
    return [];
  }
  return [
    {
      path,
      start_line,
      end_line: isLine(end_line) ? end_line : start_line,
      symbol: typeof symbol === 'string' ? symbol : null,
      kind: typeof kind === 'string' ? kind : null,
      language: null,
      ...(typeof cell === 'number' ? { cell } : {})
    }
  ];
}

function isLine(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The MIME renderer: the answer, its citation links and its sources table. */
export class AnswerRenderer extends Panel implements IRenderMime.IRenderer {
  constructor(options: IRenderMime.IRendererOptions) {
    super();
    this.addClass('jp-Workspace-answerOutput');
    this._mimeType = options.mimeType;
    // As JupyterLab's own renderers say what they render.
    this.node.dataset.mimeType = options.mimeType;
    this._trans = loadTranslation(options.translator ?? null);
    this._markdown = new HostileMarkdownRenderer({
      ...options,
      mimeType: MARKDOWN_MIME_TYPE
    });
    this._sources = new ResultsRenderer({
      ...options,
      mimeType: RESULTS_MIME_TYPE
    });
    this._error = new Widget();
    this._error.addClass('jp-Workspace-resultsError');
    this._error.node.setAttribute('role', 'alert');
    this._error.hide();
    this.addWidget(this._markdown);
    this.addWidget(this._sources);
    this.addWidget(this._error);
    this.node.addEventListener('click', this._onClick);
  }

  async renderModel(model: IRenderMime.IMimeModel): Promise<void> {
    const answer = readAnswer(model.data[this._mimeType]);
    this._showError('');
    if (!answer) {
      this._markdown.hide();
      this._sources.hide();
      this._showError(
        this._trans.__(
          'This %workspace output cannot be shown: its data is not an answer.'
        )
      );
      return;
    }
    this._markdown.show();
    await this._markdown.renderModel(
      new MimeModel({ data: { [MARKDOWN_MIME_TYPE]: answer.markdown } })
    );
    linkCitations(this._markdown.node, answer.sources, this._trans);
    this._sources.setHidden(answer.sources.length === 0);
    await this._sources.renderModel(
      new MimeModel({
        data: {
          [RESULTS_MIME_TYPE]: {
            title: this._trans.__('Sources'),
            columns: ['location', 'symbol', 'kind'],
            rows: answer.sources.map(source => ({
              location: `${source.path}:${source.start_line}`,
              symbol: source.symbol,
              kind: source.kind
            }))
          }
        }
      })
    );
  }

  dispose(): void {
    this.node.removeEventListener('click', this._onClick);
    super.dispose();
  }

  /** A plain click on a citation opens its file at the line, as a table link does. */
  private _onClick = (event: MouseEvent): void => {
    const link = (event.target as Element | null)?.closest?.<HTMLElement>(
      'a.jp-Workspace-citation'
    );
    if (!link || !this._markdown.node.contains(link) || !isPlainClick(event)) {
      return;
    }
    event.preventDefault();
    const line = Number(link.dataset.line);
    void this._open({
      path: link.dataset.path ?? '',
      line: line > 0 ? line : null
    });
  };

  private async _open(source: ISource): Promise<void> {
    this._showError('');
    const opened = requestOpenSource(this.node, source);
    if (!opened) {
      // Nothing on the page opens sources (the Workspace plugin is off).
      window.open(sourceHref(source), '_blank', 'noopener');
      return;
    }
    try {
      await opened;
    } catch (reason) {
      this._showError(errorMessage(reason));
    }
  }

  private _showError(text: string): void {
    this._error.node.textContent = text;
    this._error.setHidden(!text);
  }

  private readonly _mimeType: string;
  private readonly _trans: TranslationBundle;
  private readonly _markdown: HostileMarkdownRenderer;
  private readonly _sources: ResultsRenderer;
  private readonly _error: Widget;
}
