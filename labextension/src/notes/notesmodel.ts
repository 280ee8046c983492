/**
 * The state of the Notes panel: the list, the filter and the open note (with
 * the entities it mentions).
 */
import { TranslationBundle } from '@jupyterlab/translation';

import {
  INote,
  createNote,
  deleteNote,
  getNote,
  listNotes
} from '../common/api';
import { WorkspaceEvent, WorkspaceEvents } from '../common/events';
import { PanelModel } from '../common/panelmodel';
import { CLIENT_ID, WorkspaceRequestError } from '../common/request';
import { NoteEntities } from './entitiesmodel';
import { NoteDraft } from './notedraft';

/** Quiet time after typing in the filter box before asking the server. */
const FILTER_DELAY_MS = 250;

export class NotesModel extends PanelModel {
  constructor(options: NotesModel.IOptions) {
    super();
    this._events = options.events;
    this._trans = options.trans;
    this._autosaveDelay = options.autosaveDelay ?? 500;
    this._events.received.connect(this._onEvent, this);
    this._events.connected.connect(this._onConnected, this);
  }

  /** The notes shown, newest-updated first. */
  get notes(): ReadonlyArray<INote> {
    return this._notes;
  }

  get query(): string {
    return this._query;
  }

  /** The note being edited, if any. */
  get draft(): NoteDraft | null {
    return this._draft;
  }

  /** The entities the open note mentions; `null` while none is open. */
  get entities(): NoteEntities | null {
    return this._entities;
  }

  /** True until the first list has arrived. */
  get loading(): boolean {
    return this._loading;
  }

  /** Something the user should know that is not an error. */
  get notice(): string {
    return this._notice;
  }

  set autosaveDelay(value: number) {
    this._autosaveDelay = value;
    if (this._draft) {
      this._draft.autosaveDelay = value;
    }
  }

  /** Set the full-text filter; the list follows after a short pause. */
  setQuery(query: string): void {
    this._query = query;
    this._emit();
    window.clearTimeout(this._filterTimer);
    this._filterTimer = window.setTimeout(() => {
      void this.refresh();
    }, FILTER_DELAY_MS);
  }

  /** Fetch the list again (with the current filter). */
  async refresh(): Promise<void> {
    window.clearTimeout(this._filterTimer);
    const query = this._query;
    const generation = ++this._listGeneration;
    // Events that arrive while the list is on its way may be newer than it.
    this._replay = [];
    try {
      const notes = await listNotes(query);
      // An older answer must not replace a newer one.
      if (generation === this._listGeneration && !this._isDisposed) {
        const replay = this._replay ?? [];
        this._replay = null;
        this._notes = notes;
        this._loading = false;
        if (!query.trim()) {
          replay.forEach(event => this._applyToList(event));
        }
        this._emit();
      }
    } catch (error) {
      if (generation === this._listGeneration) {
        this._replay = null;
      }
      this._loading = false;
      this._fail(error);
    }
  }

  /** Create a note and open it. */
  async create(): Promise<INote | null> {
    try {
      // The stored title, the same whatever language created the note.
      // eslint-disable-next-line jupyter/no-untranslated-string
      const note = await createNote({ title: 'Untitled', body: '' });
      this._upsert(note);
      await this._openNote(note, true);
      return note;
    } catch (error) {
      this._fail(error);
      return null;
    }
  }

  /**
   * Ask the view to show the open note rendered (once): a research report
   * opened from the Research panel, whose citations are links there.
   */
  requestPreview(): void {
    this._previewRequested = true;
    this._emit();
  }

  /** Whether a preview was asked for since the last call (read once). */
  takePreviewRequest(): boolean {
    const requested = this._previewRequested;
    this._previewRequested = false;
    return requested;
  }

  /** Open a note for editing, saving the one open before. */
  async open(id: number): Promise<void> {
    if (this._draft?.id === id) {
      return;
    }
    try {
      await this._openNote(await getNote(id));
    } catch (error) {
      this._fail(error);
      if (error instanceof WorkspaceRequestError && error.status === 404) {
        this._remove(id);
      }
    }
  }

  /** Close the open note, saving pending edits first. */
  async close(): Promise<void> {
    const draft = this._draft;
    if (!draft) {
      return;
    }
    await this.flush();
    if (this._draft === draft) {
      this._setDraft(null);
    }
  }

  /** Save the open note's pending edits now. */
  async flush(init: RequestInit = {}): Promise<void> {
    await this._draft?.flush(init);
  }

  /** Delete a note (the caller has asked the user). */
  async remove(id: number): Promise<void> {
    try {
      await deleteNote(id);
      this._remove(id);
      if (this._draft?.id === id) {
        this._setDraft(null);
      }
    } catch (error) {
      this._fail(error);
    }
  }

  dismissNotice(): void {
    this._notice = '';
    this._emit();
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    window.clearTimeout(this._filterTimer);
    this._draft?.dispose();
    this._entities?.dispose();
    super.dispose();
  }

  private async _openNote(note: INote, fresh = false): Promise<void> {
    const previous = this._draft;
    if (previous) {
      await previous.flush();
      previous.dispose();
    }
    const draft = new NoteDraft(note, {
      delay: this._autosaveDelay,
      fresh
    });
    draft.saved.connect((_, saved) => this._upsert(saved));
    this._notice = '';
    this._setDraft(draft);
  }

  private _setDraft(draft: NoteDraft | null): void {
    if (this._draft && this._draft !== draft) {
      this._draft.dispose();
    }
    if (this._entities && this._entities.note !== draft?.id) {
      this._entities.dispose();
      this._entities = null;
    }
    if (draft && !this._entities) {
      this._entities = new NoteEntities({
        events: this._events,
        trans: this._trans,
        note: draft.id
      });
      void this._entities.refresh();
    }
    this._draft = draft;
    this._emit();
  }

  private _onEvent(_: WorkspaceEvents, event: WorkspaceEvent): void {
    this._replay?.push(event);
    switch (event.type) {
      case 'note.created':
      case 'note.updated':
        if (this._query.trim()) {
          // Only the server knows whether the note still matches the filter.
          this._scheduleRefetch();
        } else {
          this._applyToList(event);
        }
        if (event.origin !== CLIENT_ID) {
          this._draft?.applyRemote(event.note);
        }
        break;
      case 'note.deleted':
        this._applyToList(event);
        // This client's own deletion closes the note in `remove()`, silently.
        if (this._draft?.id === event.id && event.origin !== CLIENT_ID) {
          this._setDraft(null);
          this._notice = this._trans.__('The open note was deleted elsewhere.');
          this._emit();
        }
        break;
      default:
        break;
    }
  }

  private async _onConnected(): Promise<void> {
    // Events may have been missed while the socket was down.
    await this.refresh();
    const draft = this._draft;
    if (draft && !draft.hasUnsavedChanges) {
      try {
        draft.applyRemote(await getNote(draft.id));
      } catch (error) {
        if (error instanceof WorkspaceRequestError && error.status === 404) {
          this._setDraft(null);
          this._notice = this._trans.__('The open note was deleted elsewhere.');
          this._emit();
        }
      }
    }
  }

  private _applyToList(event: WorkspaceEvent): void {
    if (event.type === 'note.created' || event.type === 'note.updated') {
      this._upsert(event.note);
    } else if (event.type === 'note.deleted') {
      this._remove(event.id);
    }
  }

  private _scheduleRefetch(): void {
    window.clearTimeout(this._filterTimer);
    this._filterTimer = window.setTimeout(() => {
      void this.refresh();
    }, 100);
  }

  private _upsert(note: INote): void {
    const others = this._notes.filter(n => n.id !== note.id);
    const existing = this._notes.find(n => n.id === note.id);
    if (existing && existing.revision > note.revision) {
      return;
    }
    this._notes = [note, ...others].sort(
      (a, b) => b.updated.localeCompare(a.updated) || b.id - a.id
    );
    this._emit();
  }

  private _remove(id: number): void {
    const notes = this._notes.filter(n => n.id !== id);
    if (notes.length !== this._notes.length) {
      this._notes = notes;
      this._emit();
    }
  }

  private _events: WorkspaceEvents;
  private _trans: TranslationBundle;
  private _autosaveDelay: number;
  private _previewRequested = false;
  private _notes: INote[] = [];
  private _query = '';
  private _draft: NoteDraft | null = null;
  private _entities: NoteEntities | null = null;
  private _loading = true;
  private _notice = '';
  private _filterTimer: number | undefined = undefined;
  private _listGeneration = 0;
  private _replay: WorkspaceEvent[] | null = null;
}

export namespace NotesModel {
  export interface IOptions {
    events: WorkspaceEvents;
    trans: TranslationBundle;
    autosaveDelay?: number;
  }
}
