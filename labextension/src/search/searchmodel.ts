/**
 * The state of the Search panel: the query and its filters, the results
 * grouped by file, the hit the keyboard is on.
 *
 * Typing searches ~250 ms after the last change. Each search aborts the one
 * before it and only the newest one's answer is shown, so results never
 * arrive out of order. While the index fills, the open query is asked again
 * (at most once a second): words typed before they were indexed find them
 * once they are, without pressing Enter.
 */
import { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';

import { noteIdOf } from '../common/opensource';
import { WorkspaceRequestError, errorMessage } from '../common/request';
import { IndexModel } from './indexmodel';
import { NoteTitles } from './notetitles';
import { ISearchHit, ISearchQuery, SearchMode, search } from './searchapi';

/** Quiet time after a keystroke before searching, in ms. */
export const SEARCH_DELAY_MS = 250;

/** The least time between two searches the index's progress asks for, in ms. */
export const INDEX_REFRESH_MS = 1000;

/** How many hits to ask for. */
const RESULT_COUNT = 20;

/** The longest query the server takes. */
export const MAX_QUERY_CHARS = 1000;

/** The hits of one file, best first. */
export interface ISearchGroup {
  path: string;
  hits: ISearchHit[];
}

/** Why the last search failed. */
export interface ISearchError {
  /** The HTTP status (0: the server could not be reached). */
  status: number;
  /** The server's message. */
  message: string;
}

export class SearchModel implements IDisposable {
  constructor(options: SearchModel.IOptions = {}) {
    this._index = options.index ?? null;
    this._index?.changed.connect(this._onIndexChanged, this);
    this._noteTitles = options.noteTitles ?? null;
    this._noteTitles?.changed.connect(this._emit, this);
  }

  get query(): string {
    return this._query;
  }

  get mode(): SearchMode {
    return this._mode;
  }

  get language(): string {
    return this._language;
  }

  get kind(): string {
    return this._kind;
  }

  get pathGlob(): string {
    return this._path;
  }

  /** True when any filter narrows the search. */
  get filtered(): boolean {
    return Boolean(this._language || this._kind || this._path.trim());
  }

  /** The hits shown, grouped by file in the order of each file's best hit. */
  get groups(): ReadonlyArray<ISearchGroup> {
    return this._groups;
  }

  /** The hits in display order (the order the arrow keys follow). */
  get hits(): ReadonlyArray<ISearchHit> {
    return this._ordered;
  }

  /** The query the shown results answer (`null`: nothing searched yet). */
  get searchedQuery(): string | null {
    return this._searched;
  }

  /** The server's time for the shown results, in ms. */
  get tookMs(): number | null {
    return this._tookMs;
  }

  /** The shown results matched words only: the index has no vectors yet. */
  /** Files not in the index yet that the last search read from disk (0: none). */
  get unindexedFiles(): number {
    return this._unindexedFiles;
  }

  get wordsOnly(): boolean {
    return this._wordsOnly;
  }

  /**
   * True while a search is waiting for its quiet time or its answer (not
   * while the shown results are asked again because the index has grown).
   */
  get searching(): boolean {
    return (
      this._timer !== undefined || (this._controller !== null && !this._quiet)
    );
  }

  get error(): ISearchError | null {
    return this._error;
  }

  /** The position of the keyboard's hit in `hits`, -1 for none. */
  get active(): number {
    return this._active;
  }

  get activeHit(): ISearchHit | null {
    return this._ordered[this._active] ?? null;
  }

  get changed(): ISignal<this, void> {
    return this._changed;
  }

  /**
   * The title of the note a hit's path names (`@notes/<id>`): `undefined`
   * for a file or while the title is on its way, `null` for a deleted note.
   */
  noteTitle(path: string): string | null | undefined {
    const id = noteIdOf(path);
    return id === null ? undefined : this._noteTitles?.get(id);
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  setQuery(query: string): void {
    if (query !== this._query) {
      this._query = query;
      this._schedule();
    }
  }

  setMode(mode: SearchMode): void {
    if (mode !== this._mode) {
      this._mode = mode;
      this._schedule();
    }
  }

  setLanguage(language: string): void {
    if (language !== this._language) {
      this._language = language;
      this._schedule();
    }
  }

  setKind(kind: string): void {
    if (kind !== this._kind) {
      this._kind = kind;
      this._schedule();
    }
  }

  setPathGlob(path: string): void {
    if (path !== this._path) {
      this._path = path;
      this._schedule();
    }
  }

  /** Drop every filter (mode stays). */
  clearFilters(): void {
    this._language = '';
    this._kind = '';
    this._path = '';
    this._schedule();
  }

  /** Search for `query` at once (a command's selection). */
  searchFor(query: string): void {
    this._query = query;
    void this.searchNow();
  }

  /**
   * Search now, without waiting for the quiet time.
   *
   * @param quiet - the index has changed, not the query: the shown results
   *   stay as they are (not marked stale) until the new ones arrive
   */
  async searchNow(quiet = false): Promise<void> {
    this._clearTimer();
    window.clearTimeout(this._refreshTimer);
    this._refreshTimer = undefined;
    const query = this._currentQuery();
    this._controller?.abort();
    const generation = ++this._generation;
    this._quiet = quiet;
    this._lastSearch = Date.now();
    this._askedIndex = this._indexVersion();
    if (!query) {
      this._controller = null;
      this._setResults(null, [], null);
      this._error = null;
      this._emit();
      return;
    }
    const controller = new AbortController();
    this._controller = controller;
    this._emit();
    try {
      const answer = await search(query, controller.signal);
      if (generation !== this._generation || this._isDisposed) {
        return;
      }
      this._error = null;
      this._wordsOnly = answer.words_only === true;
      this._unindexedFiles = answer.unindexed?.files ?? 0;
      this._setResults(query.q, answer.results, answer.took_ms);
    } catch (error) {
      if (
        generation !== this._generation ||
        controller.signal.aborted ||
        this._isDisposed
      ) {
        return;
      }
      this._error = {
        status: error instanceof WorkspaceRequestError ? error.status : 0,
        message: errorMessage(error)
      };
      this._wordsOnly = false;
      this._unindexedFiles = 0;
      this._setResults(null, [], null);
    } finally {
      if (generation === this._generation) {
        this._controller = null;
        this._quiet = false;
        this._emit();
        // The index may have grown while this search was on its way.
        this._refreshIfIndexChanged();
      }
    }
  }

  /** Move the keyboard's hit by `delta` (clamped to the list). */
  move(delta: number): void {
    const count = this._ordered.length;
    if (count === 0) {
      return;
    }
    const from = this._active < 0 ? (delta > 0 ? -1 : count) : this._active;
    this.setActive(Math.max(0, Math.min(count - 1, from + delta)));
  }

  setActive(index: number): void {
    const next = index >= 0 && index < this._ordered.length ? index : -1;
    if (next !== this._active) {
      this._active = next;
      this._emit();
    }
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    this._clearTimer();
    window.clearTimeout(this._refreshTimer);
    this._controller?.abort();
    Signal.clearData(this);
  }

  /** The request for the current input, or `null` when there is no query. */
  private _currentQuery(): ISearchQuery | null {
    const q = this._query.trim().slice(0, MAX_QUERY_CHARS);
    if (!q) {
      return null;
    }
    return {
      q,
      mode: this._mode,
      lang: this._language,
      kind: this._kind,
      path: this._path,
      k: RESULT_COUNT
    };
  }

  private _setResults(
    query: string | null,
    hits: ISearchHit[],
    tookMs: number | null
  ): void {
    const byPath = new Map<string, ISearchGroup>();
    for (const hit of hits) {
      let group = byPath.get(hit.path);
      if (!group) {
        group = { path: hit.path, hits: [] };
        byPath.set(hit.path, group);
      }
      group.hits.push(hit);
    }
    // Keep the keyboard's hit when it is still there.
    const previous = this.activeHit;
    this._groups = [...byPath.values()];
    this._ordered = this._groups.flatMap(group => group.hits);
    this._active = previous
      ? this._ordered.findIndex(
          hit =>
            hit.path === previous.path &&
            hit.start_line === previous.start_line &&
            hit.end_line === previous.end_line
        )
      : -1;
    this._searched = query;
    this._tookMs = tookMs;
    const notes = hits
      .map(hit => noteIdOf(hit.path))
      .filter((id): id is number => id !== null);
    this._noteTitles?.load(notes);
  }

  private _schedule(): void {
    this._clearTimer();
    if (!this._currentQuery()) {
      // Nothing to wait for: clear at once.
      void this.searchNow();
      return;
    }
    this._timer = window.setTimeout(() => {
      this._timer = undefined;
      void this.searchNow();
    }, SEARCH_DELAY_MS);
    this._emit();
  }

  private _clearTimer(): void {
    if (this._timer !== undefined) {
      window.clearTimeout(this._timer);
      this._timer = undefined;
    }
  }

  /** What the index holds, as far as search answers go: a change may change them. */
  private _indexVersion(): string {
    const status = this._index?.status;
    return status
      ? [
          status.state,
          status.files_indexed,
          status.files_deleting,
          status.chunks,
          status.vectors_pending
        ].join(' ')
      : '';
  }

  private _onIndexChanged(): void {
    this._refreshIfIndexChanged();
  }

  /**
   * Ask the open query again when the index has changed since it was asked
   * (a state change at once, progress at most once per INDEX_REFRESH_MS).
   * Not while the user types (their search comes) or a search is on its way
   * (it checks again when it ends).
   */
  private _refreshIfIndexChanged(): void {
    const answered = this._searched !== null || this._error !== null;
    if (
      this._isDisposed ||
      this._timer !== undefined ||
      this._controller !== null ||
      this._refreshTimer !== undefined ||
      !answered ||
      !this._currentQuery()
    ) {
      return;
    }
    const version = this._indexVersion();
    if (!version || version === this._askedIndex) {
      return;
    }
    const stateChanged =
      version.split(' ')[0] !== this._askedIndex.split(' ')[0];
    const wait = stateChanged
      ? 0
      : Math.max(0, this._lastSearch + INDEX_REFRESH_MS - Date.now());
    this._refreshTimer = window.setTimeout(() => {
      this._refreshTimer = undefined;
      if (this._timer === undefined && this._controller === null) {
        void this.searchNow(true);
      }
    }, wait);
  }

  private _emit(): void {
    if (!this._isDisposed) {
      this._changed.emit(undefined);
    }
  }

  private _index: IndexModel | null;
  private _noteTitles: NoteTitles | null;
  private _query = '';
  private _mode: SearchMode = 'hybrid';
  private _language = '';
  private _kind = '';
  private _path = '';
  private _groups: ISearchGroup[] = [];
  private _ordered: ISearchHit[] = [];
  private _searched: string | null = null;
  private _tookMs: number | null = null;
  private _wordsOnly = false;
  private _unindexedFiles = 0;
  private _error: ISearchError | null = null;
  private _active = -1;
  private _timer: number | undefined = undefined;
  private _controller: AbortController | null = null;
  private _quiet = false;
  private _refreshTimer: number | undefined = undefined;
  /** When the last search started (Date.now()). */
  private _lastSearch = 0;
  /** The index's version when the shown results were asked for. */
  private _askedIndex = '';
  private _generation = 0;
  private _isDisposed = false;
  private _changed = new Signal<this, void>(this);
}

export namespace SearchModel {
  export interface IOptions {
    /** Searches again as the index changes. */
    index?: IndexModel | null;
    /** The titles of the notes among the hits. */
    noteTitles?: NoteTitles | null;
  }
}
