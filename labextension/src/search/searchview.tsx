/**
 * The Search panel (left sidebar): a query with type-ahead, mode and filters,
 * the hits grouped by file, and the index's progress.
 */
import { ReactWidget } from '@jupyterlab/apputils';
import { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import { afterPendingActivation } from '../common/activation';
import { ISource } from '../common/api';
import { Banner } from '../common/banner';
import { ConnectionStatus } from '../common/connectionstatus';
import { WorkspaceEvents } from '../common/events';
import { useRerenderOn } from '../common/hooks';
import { searchPanelIcon } from '../common/icons';
import { noteIdOf, sourceHref } from '../common/opensource';
import { errorMessage } from '../common/request';
import { escapeRegExp } from '../common/textnodes';
import { translated, useTranslation } from '../common/translation';
import { IndexModel } from './indexmodel';
import {
  IIndexStatus,
  ISearchHit,
  SEARCH_KINDS,
  SEARCH_LANGUAGES,
  SEARCH_MODES,
  SearchMode
} from './searchapi';
import { ISearchGroup, MAX_QUERY_CHARS, SearchModel } from './searchmodel';
import { Button, HTMLSelect } from '@jupyterlab/ui-components';

export const SEARCH_ID = 'jupyter-workspace:search';

/** The DOM id of the n-th hit (for `aria-activedescendant`). */
function hitId(index: number): string {
  return `jp-Workspace-searchHit-${index}`;
}

/*
 * Counts are shown grouped as the locale groups them (1,234): the plural form
 * follows %1, the number, and the text shows %2, the grouped number.
 */

function results(n: number, trans: TranslationBundle): string {
  return trans._n('%2 result', '%2 results', n, n.toLocaleString());
}

function files(n: number, trans: TranslationBundle): string {
  return trans._n('%2 file', '%2 files', n, n.toLocaleString());
}

function chunks(n: number, trans: TranslationBundle): string {
  return trans._n('%2 chunk', '%2 chunks', n, n.toLocaleString());
}

function modeLabel(mode: SearchMode, trans: TranslationBundle): string {
  switch (mode) {
    case 'hybrid':
      return trans.__('Hybrid');
    case 'vector':
      return trans.__('Meaning (vector)');
    case 'text':
      return trans.__('Words (text)');
  }
}

export interface ISearchViewProps {
  model: SearchModel;
  trans: TranslationBundle;
  index: IndexModel;
  events: WorkspaceEvents;
  /** Opens a file at a line; rejects with a message for the user. */
  openSource: (source: ISource) => Promise<void>;
}

/** The whole panel. */
export function SearchView(props: ISearchViewProps): JSX.Element {
  const { model, index, events } = props;
  const trans = useTranslation();
  useRerenderOn(model.changed);
  const [openError, setOpenError] = React.useState('');

  const open = async (hit: ISearchHit) => {
    try {
      setOpenError('');
      await props.openSource({
        path: hit.path,
        line: hit.start_line,
        end_line: hit.end_line,
        cell: hit.cell
      });
    } catch (reason) {
      setOpenError(errorMessage(reason));
    }
  };

  /** Arrow keys, Home / End and Enter, from the input or the list. */
  const onNavigate = (event: React.KeyboardEvent, fromInput: boolean) => {
    const pageStep = 5;
    switch (event.key) {
      case 'ArrowDown':
        model.move(1);
        break;
      case 'ArrowUp':
        model.move(-1);
        break;
      case 'PageDown':
        model.move(pageStep);
        break;
      case 'PageUp':
        model.move(-pageStep);
        break;
      case 'Home':
        if (fromInput) {
          return; // the caret's Home
        }
        model.setActive(0);
        break;
      case 'End':
        if (fromInput) {
          return;
        }
        model.setActive(model.hits.length - 1);
        break;
      case 'Enter': {
        if (event.nativeEvent.isComposing) {
          return;
        }
        const hit = model.activeHit;
        if (hit) {
          void open(hit);
        } else if (fromInput) {
          void model.searchNow();
        }
        break;
      }
      case 'Escape':
        if (!fromInput || !model.query) {
          return;
        }
        model.setQuery('');
        break;
      default:
        return;
    }
    event.preventDefault();
    event.stopPropagation();
  };

  // Keep the keyboard's hit in view.
  const active = model.active;
  React.useEffect(() => {
    if (active >= 0) {
      document.getElementById(hitId(active))?.scrollIntoView({
        block: 'nearest'
      });
    }
  }, [active]);

  return (
    <div className="jp-Workspace-searchRoot">
      <div className="jp-Workspace-header">
        <h2 className="jp-Workspace-heading">{trans.__('Search')}</h2>
        <ConnectionStatus events={events} />
      </div>
      <IndexStatusView index={index} />
      <SearchForm model={model} onNavigate={onNavigate} />
      {openError && (
        <Banner kind="error" onDismiss={() => setOpenError('')}>
          {openError}
        </Banner>
      )}
      <Results
        model={model}
        index={index}
        onOpen={open}
        onNavigate={onNavigate}
      />
    </div>
  );
}

interface ISearchFormProps {
  model: SearchModel;
  onNavigate: (event: React.KeyboardEvent, fromInput: boolean) => void;
}

function SearchForm(props: ISearchFormProps): JSX.Element {
  const { model, onNavigate } = props;
  const trans = useTranslation();
  const activeHit = model.activeHit;
  return (
    <div
      className="jp-Workspace-searchForm"
      role="search"
      aria-label={trans.__('Search the workspace')}
    >
      <input
        type="search"
        className="jp-Workspace-searchInput jp-Workspace-input"
        placeholder={trans.__(
          'Search code and docs (e.g. length of a quaternion)'
        )}
        aria-label={trans.__(
          'Search the workspace (arrow keys pick a result, Enter opens it)'
        )}
        role="combobox"
        aria-expanded={model.hits.length > 0}
        aria-controls="jp-Workspace-searchResults"
        aria-autocomplete="list"
        aria-activedescendant={activeHit ? hitId(model.active) : undefined}
        maxLength={MAX_QUERY_CHARS}
        autoComplete="off"
        spellCheck={false}
        value={model.query}
        onChange={event => model.setQuery(event.target.value)}
        onKeyDown={event => onNavigate(event, true)}
      />
      <div className="jp-Workspace-searchFilters">
        <HTMLSelect
          className="jp-Workspace-searchMode jp-Workspace-select"
          aria-label={trans.__('Search mode')}
          title={trans.__(
            'Hybrid: meaning and words together; Meaning: similar code; Words: exact terms'
          )}
          value={model.mode}
          onChange={event => model.setMode(event.target.value as SearchMode)}
        >
          {SEARCH_MODES.map(mode => (
            <option key={mode} value={mode}>
              {modeLabel(mode, trans)}
            </option>
          ))}
        </HTMLSelect>
        <HTMLSelect
          className="jp-Workspace-searchLanguage jp-Workspace-select"
          aria-label={trans.__('Language')}
          value={model.language}
          onChange={event => model.setLanguage(event.target.value)}
        >
          <option value="">{trans.__('Any language')}</option>
          {SEARCH_LANGUAGES.map(name => (
            <option key={name} value={name}>
              {name}
            </option>
          ))}
        </HTMLSelect>
        <HTMLSelect
          className="jp-Workspace-searchKind jp-Workspace-select"
          aria-label={trans.__('Kind')}
          value={model.kind}
          onChange={event => model.setKind(event.target.value)}
        >
          <option value="">{trans.__('Any kind')}</option>
          {SEARCH_KINDS.map(name => (
            <option key={name} value={name}>
              {name}
            </option>
          ))}
        </HTMLSelect>
        <input
          type="text"
          className="jp-Workspace-searchPath jp-Workspace-input"
          placeholder={trans.__('Path glob, e.g. src/**')}
          aria-label={trans.__(
            'Only files matching this glob (relative to the root)'
          )}
          title={trans.__(
            'Only files matching this glob, relative to the root: src/**, *.f90'
          )}
          autoComplete="off"
          spellCheck={false}
          value={model.pathGlob}
          onChange={event => model.setPathGlob(event.target.value)}
          onKeyDown={event => {
            if (event.key === 'Enter') {
              event.preventDefault();
              void model.searchNow();
            }
          }}
        />
      </div>
    </div>
  );
}

interface IResultsProps {
  model: SearchModel;
  index: IndexModel;
  onOpen: (hit: ISearchHit) => Promise<void>;
  onNavigate: (event: React.KeyboardEvent, fromInput: boolean) => void;
}

function Results(props: IResultsProps): JSX.Element {
  const { model, index, onOpen, onNavigate } = props;
  const trans = useTranslation();
  useRerenderOn(index.stateChanged);
  const building = [
    'starting',
    'waiting',
    'scanning',
    'indexing',
    'embedding'
  ].includes(index.state);
  const error = model.error;
  const query = model.query.trim();
  const groups = model.groups;
  const hits = model.hits;
  const stale = model.searchedQuery !== null && model.searching;

  let summary = '';
  if (model.searching && hits.length === 0) {
    summary = query ? trans.__('Searching…') : '';
  } else if (model.searchedQuery !== null && hits.length > 0) {
    const found = trans.__(
      '%1 in %2',
      results(hits.length, trans),
      files(groups.length, trans)
    );
    summary =
      model.tookMs !== null
        ? trans.__('%1 · %2 ms', found, Math.round(model.tookMs))
        : found;
  }
  if (summary && model.wordsOnly) {
    // the embedding model still loads: hits match words; meaning-based ones come later
    summary = trans.__('%1 · words only, meaning coming', summary);
  }
  if (summary && model.unindexedFiles > 0) {
    // files the index does not hold yet were read from disk for the query's words
    summary = trans.__(
      '%1 · %2 not indexed yet searched by words',
      summary,
      files(model.unindexedFiles, trans)
    );
  }

  return (
    <>
      <div
        className="jp-Workspace-searchSummary"
        role="status"
        aria-live="polite"
        data-searching={model.searching}
        data-words-only={model.wordsOnly}
        data-unindexed-files={model.unindexedFiles}
      >
        {summary}
      </div>
      {error && (
        <div className="jp-Workspace-searchError" data-status={error.status}>
          <Banner kind={error.status === 503 ? 'warning' : 'error'}>
            {error.status === 503 ? (
              <>
                <strong>
                  {trans.__('The search index is not ready yet.')}
                </strong>{' '}
                {error.message}
              </>
            ) : error.status === 400 ? (
              <>
                <strong>
                  {trans.__('The server cannot run this search:')}
                </strong>{' '}
                {error.message}
              </>
            ) : (
              <>
                <strong>{trans.__('Search failed:')}</strong> {error.message}
              </>
            )}
          </Banner>
        </div>
      )}
      {!error && !query && (
        <div className="jp-Workspace-searchEmpty" data-reason="idle">
          <p>
            {trans.__(
              "Search this folder's code and documents by meaning and by words: type a question, a name or a piece of code."
            )}
          </p>
          <p>
            <kbd>↑</kbd> <kbd>↓</kbd> {trans.__('pick a result,')}{' '}
            <kbd>{trans.__('Enter')}</kbd> {trans.__('opens it at its line.')}
          </p>
        </div>
      )}
      {!error &&
        query &&
        !model.searching &&
        model.searchedQuery !== null &&
        hits.length === 0 && (
          <div className="jp-Workspace-searchEmpty" data-reason="none">
            <p>{trans.__('No results for “%1”.', model.searchedQuery)}</p>
            {building && (
              <p>
                {trans.__(
                  'The index is still being built: results may be missing until it is up to date.'
                )}
              </p>
            )}
            {model.filtered && (
              <p>
                {trans.__('Filters are on.')}{' '}
                <Button
                  type="button"
                  className="jp-Workspace-textButton jp-Workspace-clearFilters"
                  onClick={() => model.clearFilters()}
                >
                  {trans.__('Clear filters')}
                </Button>
              </p>
            )}
          </div>
        )}
      <div
        id="jp-Workspace-searchResults"
        className={`jp-Workspace-searchResults${stale ? ' jp-mod-stale' : ''}`}
        role="listbox"
        aria-label={trans.__('Search results')}
        aria-activedescendant={
          model.activeHit ? hitId(model.active) : undefined
        }
        tabIndex={hits.length > 0 ? 0 : -1}
        onFocus={event => {
          if (event.target === event.currentTarget && model.active < 0) {
            model.setActive(0);
          }
        }}
        onKeyDown={event => onNavigate(event, false)}
      >
        <ResultGroups model={model} groups={groups} onOpen={onOpen} />
      </div>
    </>
  );
}

interface IResultGroupsProps {
  model: SearchModel;
  groups: ReadonlyArray<ISearchGroup>;
  onOpen: (hit: ISearchHit) => Promise<void>;
}

function ResultGroups(props: IResultGroupsProps): JSX.Element {
  const { model, groups, onOpen } = props;
  const trans = useTranslation();
  const words = queryWords(model.searchedQuery ?? '');
  let position = 0;
  return (
    <>
      {groups.map(group => {
        const where = groupName(model, group.path, trans);
        return (
          <div
            key={group.path}
            className="jp-Workspace-searchFile"
            data-path={group.path}
            role="group"
            aria-label={trans.__(
              '%1: %2',
              where.label,
              results(group.hits.length, trans)
            )}
          >
            <div className="jp-Workspace-searchFileHeader" title={where.label}>
              <span className="jp-Workspace-searchFileName">{where.name}</span>
              {where.folder && (
                <span className="jp-Workspace-searchFileDir">
                  {where.folder}
                </span>
              )}
              {where.note && (
                <span className="jp-Workspace-searchFileKind">
                  {trans.__('note')}
                </span>
              )}
              <span className="jp-Workspace-searchFileCount">
                {group.hits.length}
              </span>
            </div>
            {group.hits.map(hit => {
              const index = position++;
              return (
                <HitView
                  key={`${hit.start_line}-${hit.end_line}-${index}`}
                  hit={hit}
                  where={where}
                  index={index}
                  active={index === model.active}
                  words={words}
                  onSelect={() => model.setActive(index)}
                  onOpen={() => void onOpen(hit)}
                />
              );
            })}
          </div>
        );
      })}
    </>
  );
}

/** How a group of hits names its file or note. */
interface IGroupName {
  /** The file's name, or the note's title. */
  name: string;
  /** The file's folder (shown cut at the start when long). */
  folder: string;
  /** The whole path, or the note's title in quotes: tooltips, screen readers. */
  label: string;
  /** True for a note (`@notes/<id>`): it opens in the Workspace sidebar. */
  note: boolean;
}

/** A note's hits under its title, not `@notes/<id>` cut like a file path. */
function groupName(
  model: SearchModel,
  path: string,
  trans: TranslationBundle
): IGroupName {
  const note = noteIdOf(path);
  if (note !== null) {
    const title = model.noteTitle(path);
    const name =
      title === undefined
        ? trans.__('Note %1', note)
        : title === null
          ? trans.__('Deleted note')
          : title || trans.__('Untitled');
    return { name, folder: '', label: `“${name}”`, note: true };
  }
  const slash = path.lastIndexOf('/');
  return {
    name: path.slice(slash + 1),
    folder: slash >= 0 ? path.slice(0, slash) : '',
    label: path,
    note: false
  };
}

interface IHitViewProps {
  hit: ISearchHit;
  where: IGroupName;
  index: number;
  active: boolean;
  words: ReadonlyArray<string>;
  onSelect: () => void;
  onOpen: () => void;
}

function HitView(props: IHitViewProps): JSX.Element {
  const { hit, where, index, active, words } = props;
  const trans = useTranslation();
  const range =
    hit.end_line > hit.start_line
      ? `${hit.start_line}–${hit.end_line}`
      : `${hit.start_line}`;
  // a notebook's hit counts its lines from the start of its cell
  const lines =
    typeof hit.cell === 'number'
      ? trans.__('cell %1: %2', hit.cell + 1, range)
      : range;
  const symbol =
    hit.symbol ||
    (hit.unindexed ? trans.__('(matching lines)') : trans.__('(top level)'));
  return (
    <div
      id={hitId(index)}
      className={`jp-Workspace-searchHit${active ? ' jp-mod-active' : ''}`}
      data-path={hit.path}
      data-line={hit.start_line}
      data-cell={hit.cell}
      role="option"
      aria-selected={active}
      aria-label={
        hit.kind
          ? trans.__(
              '%1 (%2), %3 lines %4',
              symbol,
              hit.kind,
              where.label,
              lines
            )
          : trans.__('%1, %2 lines %3', symbol, where.label, lines)
      }
      title={
        where.note
          ? trans.__('Open the note %1', where.label)
          : trans.__(
              'Open %1 at line %2 (Ctrl/⌘-click: in a new browser tab)',
              hit.path,
              hit.start_line
            )
      }
      onMouseDown={event => {
        // Keep the focus where it is (the input keeps its caret).
        if (event.button === 0) {
          event.preventDefault();
        }
      }}
      onClick={event => {
        props.onSelect();
        // A note has no page of its own: it opens in the sidebar.
        if ((event.ctrlKey || event.metaKey) && !where.note) {
          window.open(sourceHref({ path: hit.path }), '_blank', 'noopener');
          return;
        }
        props.onOpen();
      }}
    >
      <div className="jp-Workspace-searchHitHeader">
        <span
          className={`jp-Workspace-searchSymbol${hit.symbol ? '' : ' jp-mod-anonymous'}`}
        >
          {symbol}
        </span>
        {hit.kind && (
          <span className="jp-Workspace-kindBadge" data-kind={hit.kind}>
            {hit.kind}
          </span>
        )}
        {hit.unindexed && (
          <span
            className="jp-Workspace-kindBadge"
            data-kind="unindexed"
            title={trans.__(
              'Found by words in the file itself: the index does not hold it yet'
            )}
          >
            {trans.__('not indexed yet')}
          </span>
        )}
        <span className="jp-Workspace-searchLines">{lines}</span>
      </div>
      <pre className="jp-Workspace-searchSnippet">
        <Highlighted text={hit.snippet} words={words} />
      </pre>
    </div>
  );
}

/** The query's words worth marking in snippets (3+ characters). */
function queryWords(query: string): string[] {
  const words = query
    .toLowerCase()
    .split(/[^\p{L}\p{N}_]+/u)
    .filter(word => word.length >= 3);
  return [...new Set(words)].slice(0, 20);
}

/** The snippet with the query's words in `<mark>` (plain text, no HTML). */
function Highlighted(props: {
  text: string;
  words: ReadonlyArray<string>;
}): JSX.Element {
  const { text, words } = props;
  if (words.length === 0) {
    return <>{text}</>;
  }
  const pattern = new RegExp(`(${words.map(escapeRegExp).join('|')})`, 'giu');
  const parts = text.split(pattern);
  return (
    <>
      {parts.map((part, i) =>
        i % 2 === 1 ? <mark key={i}>{part}</mark> : part
      )}
    </>
  );
}

/** What the index is doing, in words; a bar while indexing. */
export function indexStatusText(
  status: IIndexStatus | null,
  requestError: string,
  trans: TranslationBundle
): string {
  if (!status) {
    return requestError
      ? trans.__('Cannot read the index state: %1', requestError)
      : trans.__('Checking the index…');
  }
  switch (status.state) {
    case 'starting':
      return trans.__('Starting the index…');
    case 'waiting':
      return trans.__('Waiting for the AI sidecar…');
    case 'scanning':
      return trans.__('Scanning the folder for files to index…');
    case 'indexing': {
      const progress = trans.__(
        'Indexing %1 / %2 files',
        status.files_indexed.toLocaleString(),
        status.files_total.toLocaleString()
      );
      return status.chunks_per_s > 0
        ? trans.__(
            '%1 · %2 chunks/s',
            progress,
            Math.round(status.chunks_per_s).toLocaleString()
          )
        : progress;
    }
    case 'embedding':
      return trans.__(
        'Words searchable · adding meaning to %1…',
        chunks(status.vectors_pending, trans)
      );
    case 'idle':
      return trans.__(
        'Index up to date · %1, %2',
        files(status.files_indexed, trans),
        chunks(status.chunks, trans)
      );
    case 'failed':
      return trans.__(
        'Indexing failed: %1',
        status.error || trans.__('unknown error')
      );
    case 'off':
      return trans.__(
        'Search is off on this server (WorkspaceApp.index_enabled / sidecar_enabled).'
      );
    default:
      return String(status.state);
  }
}

function IndexStatusView(props: { index: IndexModel }): JSX.Element {
  const { index } = props;
  const trans = useTranslation();
  useRerenderOn(index.changed);
  const status = index.status;
  const state = status
    ? status.state
    : index.requestError
      ? 'error'
      : 'unknown';
  const text = indexStatusText(status, index.requestError, trans);
  const indexing = status?.state === 'indexing';
  const embedding = status?.state === 'embedding';
  // while embedding, the bar shows the chunks with vectors out of all chunks
  const total = Math.max(
    (embedding ? status?.chunks : status?.files_total) ?? 0,
    1
  );
  const done = Math.min(
    (embedding
      ? (status?.chunks ?? 0) - (status?.vectors_pending ?? 0)
      : status?.files_indexed) ?? 0,
    total
  );
  const extras: string[] = [];
  if (status && status.files_skipped > 0) {
    extras.push(trans.__('%1 skipped', files(status.files_skipped, trans)));
  }
  if (status && status.files_error > 0) {
    extras.push(trans.__('%1 failed', files(status.files_error, trans)));
  }
  return (
    <div
      className="jp-Workspace-indexStatus"
      data-state={state}
      role="status"
      aria-live="polite"
      title={
        [
          status?.model_id
            ? trans.__('Embedding model: %1', status.model_id)
            : '',
          status?.error && status.state !== 'failed' ? status.error : '',
          status && status.files_skipped > 0
            ? trans.__('Skipped: binary, too large or ignored files.')
            : ''
        ]
          .filter(Boolean)
          .join('\n') || undefined
      }
    >
      <div className="jp-Workspace-indexText">
        <span>{text}</span>
        {extras.length > 0 && (
          <span className="jp-Workspace-indexCounts">
            {' · '}
            {extras.join(' · ')}
          </span>
        )}
      </div>
      {(indexing || embedding) && (
        <div
          className="jp-Workspace-indexBar"
          role="progressbar"
          aria-label={
            embedding
              ? trans.__('Embedding progress')
              : trans.__('Indexing progress')
          }
          aria-valuemin={0}
          aria-valuemax={total}
          aria-valuenow={done}
        >
          <div
            className="jp-Workspace-indexBarFill"
            style={{ width: `${(100 * done) / total}%` }}
          />
        </div>
      )}
      {(state === 'starting' ||
        state === 'waiting' ||
        state === 'scanning') && (
        <div
          className="jp-Workspace-indexBar jp-mod-indeterminate"
          aria-hidden="true"
        >
          <div className="jp-Workspace-indexBarFill" />
        </div>
      )}
    </div>
  );
}

/** The Search panel widget for the left sidebar. */
export class SearchPanel extends ReactWidget {
  constructor(private _props: ISearchViewProps) {
    super();
    this.id = SEARCH_ID;
    this.addClass('jp-Workspace-search');
    this.title.icon = searchPanelIcon;
    this.title.caption = _props.trans.__('Workspace Search');
  }

  get model(): SearchModel {
    return this._props.model;
  }

  /** Put the cursor in the query box (its text selected). */
  async focusInput(): Promise<void> {
    await afterPendingActivation();
    const input = this.node.querySelector<HTMLInputElement>(
      '.jp-Workspace-searchInput'
    );
    input?.focus();
    input?.select();
  }

  render(): JSX.Element {
    return translated(this._props.trans, <SearchView {...this._props} />);
  }
}
