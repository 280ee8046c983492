/**
 * The open note's edits and their autosave.
 */
import { ISignal, Signal } from '@lumino/signaling';

import { INote, updateNote } from '../common/api';
import {
  CLIENT_ID,
  WorkspaceRequestError,
  errorMessage
} from '../common/request';
import { putSnapshot } from '../recovery/snapshotapi';

/**
 * - `saved`: what is shown is what the server has.
 * - `dirty`: edits wait for the debounce to end.
 * - `saving`: a PATCH is on its way.
 * - `conflict`: the server refused a save because the note changed elsewhere
 *   (409); edits are kept until the user reloads or overwrites.
 * - `error`: the last save failed for another reason; edits are kept and the
 *   next edit or `flush()` retries.
 */
export type SaveState = 'saved' | 'dirty' | 'saving' | 'conflict' | 'error';

type Field = 'title' | 'body';

/**
 * Holds the title and body being edited and saves them, debounced, with the
 * revision they were based on, so a concurrent change elsewhere is detected
 * (409) instead of silently overwritten.
 */
export class NoteDraft {
  constructor(note: INote, options: NoteDraft.IOptions = {}) {
    this.id = note.id;
    this._title = note.title;
    this._body = note.body;
    this._revision = note.revision;
    this._delay = options.delay ?? 500;
    this.fresh = options.fresh ?? false;
  }

  readonly id: number;

  /** True for a note just created here, whose title the editor selects. */
  readonly fresh: boolean;

  get title(): string {
    return this._title;
  }

  get body(): string {
    return this._body;
  }

  /** The revision the current edits are based on. */
  get revision(): number {
    return this._revision;
  }

  get state(): SaveState {
    return this._state;
  }

  /** The server's message for the last failed save. */
  get error(): string {
    return this._error;
  }

  /** The stored note a 409 reported, while in the `conflict` state. */
  get conflict(): INote | null {
    return this._conflict;
  }

  /** True while there are edits the server does not have yet. */
  get hasUnsavedChanges(): boolean {
    return this._dirty.size > 0 || this._saving !== null;
  }

  /** Fires whenever anything shown changes. */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  /** Fires with the server's answer after each successful save. */
  get saved(): ISignal<this, INote> {
    return this._savedSignal;
  }

  set autosaveDelay(value: number) {
    this._delay = value;
  }

  setTitle(title: string): void {
    this._edit('title', title);
  }

  setBody(body: string): void {
    this._edit('body', body);
  }

  /**
   * Save now whatever is pending and wait until the server has it.
   *
   * @param init - extra fetch options, e.g. `keepalive` while the page unloads
   */
  async flush(init: RequestInit = {}): Promise<void> {
    this._clearTimer();
    if (this._saving) {
      await this._saving;
    }
    if (this._dirty.size > 0 && this._state !== 'conflict') {
      await this._save(init);
    }
  }

  /**
   * Take a newer version of the note from elsewhere (an event or a refetch).
   *
   * Ignored while local edits are pending: their save will hit the newer
   * revision and report a conflict instead of losing either side.
   *
   * @returns whether the note was taken
   */
  applyRemote(note: INote): boolean {
    if (note.id !== this.id || note.revision <= this._revision) {
      return false;
    }
    if (this.hasUnsavedChanges || this._state === 'conflict') {
      return false;
    }
    this._adopt(note);
    return true;
  }

  /** Resolve a conflict by dropping local edits for the stored note. */
  reload(note: INote | null = this._conflict): void {
    if (!note) {
      return;
    }
    this._clearTimer();
    this._dirty.clear();
    this._adopt(note);
  }

  /** Resolve a conflict by saving local edits over the stored note. */
  async overwrite(): Promise<void> {
    const current = this._conflict;
    if (!current) {
      return;
    }
    this._revision = current.revision;
    this._conflict = null;
    this._dirty.add('title').add('body');
    this._state = 'dirty';
    this._changed.emit(undefined);
    await this.flush();
  }

  /** Stop the autosave timer; pending edits are dropped. */
  dispose(): void {
    this._clearTimer();
    this._isDisposed = true;
    Signal.clearData(this);
  }

  private _edit(field: Field, value: string): void {
    if (field === 'title') {
      this._title = value;
    } else {
      this._body = value;
    }
    this._dirty.add(field);
    if (this._state !== 'conflict' && this._state !== 'saving') {
      this._state = 'dirty';
    }
    this._changed.emit(undefined);
    if (this._state !== 'conflict') {
      this._schedule();
    }
  }

  private _schedule(): void {
    this._clearTimer();
    this._timer = window.setTimeout(() => {
      this._timer = undefined;
      void this._save();
    }, this._delay);
  }

  private _clearTimer(): void {
    if (this._timer !== undefined) {
      window.clearTimeout(this._timer);
      this._timer = undefined;
    }
  }

  private _save(init: RequestInit = {}): Promise<void> {
    if (this._saving) {
      // One save at a time: the next one needs the revision this one returns.
      return this._saving.then(() => this._save(init));
    }
    if (this._dirty.size === 0 || this._isDisposed) {
      return Promise.resolve();
    }
    const fields = new Set(this._dirty);
    this._dirty.clear();
    const changes: { title?: string; body?: string; base_revision: number } = {
      base_revision: this._revision
    };
    if (fields.has('title')) {
      changes.title = this._title;
    }
    if (fields.has('body')) {
      changes.body = this._body;
    }
    this._state = 'saving';
    this._changed.emit(undefined);

    this._saving = (async () => {
      try {
        const note = await updateNote(this.id, changes, init);
        this._revision = note.revision;
        this._error = '';
        this._state = this._dirty.size > 0 ? 'dirty' : 'saved';
        this._savedSignal.emit(note);
      } catch (error) {
        fields.forEach(field => this._dirty.add(field));
        if (
          error instanceof WorkspaceRequestError &&
          error.status === 409 &&
          error.body?.current
        ) {
          this._conflict = error.body.current as INote;
          this._state = 'conflict';
          this._clearTimer();
        } else {
          this._error = errorMessage(error);
          this._state = 'error';
        }
        this._keepDraft();
      } finally {
        this._saving = null;
      }
      if (!this._isDisposed) {
        this._changed.emit(undefined);
        if (this._state === 'dirty' && this._timer === undefined) {
          this._schedule();
        }
      }
    })();
    return this._saving;
  }

  /**
   * An edit the server refused (a conflict, an error) is kept as a snapshot,
   * so a crash of the page before it is resolved loses nothing: _Recover
   * Unsaved Work_ lists it. A saved note drops it (the server compares).
   */
  private _keepDraft(): void {
    void putSnapshot({
      path: `@notes/${this.id}`,
      kind: 'note',
      content: this._body,
      base_hash: null,
      base_mtime: null,
      client: CLIENT_ID
    }).catch(() => undefined);
  }

  private _adopt(note: INote): void {
    this._title = note.title;
    this._body = note.body;
    this._revision = note.revision;
    this._conflict = null;
    this._error = '';
    this._state = 'saved';
    this._changed.emit(undefined);
  }

  private _title: string;
  private _body: string;
  private _revision: number;
  private _delay: number;
  private _state: SaveState = 'saved';
  private _error = '';
  private _conflict: INote | null = null;
  private _dirty = new Set<Field>();
  private _timer: number | undefined = undefined;
  private _saving: Promise<void> | null = null;
  private _isDisposed = false;
  private _changed = new Signal<this, void>(this);
  private _savedSignal = new Signal<this, INote>(this);
}

export namespace NoteDraft {
  export interface IOptions {
    /** Milliseconds of quiet typing before a save; 500 by default. */
    delay?: number;
    /** Whether the note was just created by this tab. */
    fresh?: boolean;
  }
}
