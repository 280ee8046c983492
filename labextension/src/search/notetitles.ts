/**
 * The titles of the notes that search hits name (`@notes/<id>`): a hit
 * carries the note's id only, and the Search panel shows its title.
 */
import { ISignal, Signal } from '@lumino/signaling';

import { getNote } from '../common/api';
import { WorkspaceEvent, WorkspaceEvents } from '../common/events';
import { WorkspaceRequestError } from '../common/request';

export class NoteTitles {
  constructor(events: WorkspaceEvents) {
    events.received.connect(this._onEvent, this);
  }

  /** Fires when a title arrives or changes. */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  /**
   * A note's title: `undefined` while it is not known yet, `null` once the
   * note is gone.
   */
  get(id: number): string | null | undefined {
    return this._titles.get(id);
  }

  /** Fetch the titles of the notes not asked for before (each once). */
  load(ids: Iterable<number>): void {
    for (const id of ids) {
      if (!this._asked.has(id)) {
        this._asked.add(id);
        void this._fetch(id);
      }
    }
  }

  private async _fetch(id: number): Promise<void> {
    try {
      this._set(id, (await getNote(id)).title);
    } catch (error) {
      if (error instanceof WorkspaceRequestError && error.status === 404) {
        this._set(id, null);
      } else {
        this._asked.delete(id); // asked again with the next results
      }
    }
  }

  private _onEvent(_: WorkspaceEvents, event: WorkspaceEvent): void {
    if (event.type === 'note.updated' && this._asked.has(event.note.id)) {
      this._set(event.note.id, event.note.title);
    } else if (event.type === 'note.deleted' && this._asked.has(event.id)) {
      this._set(event.id, null);
    }
  }

  private _set(id: number, title: string | null): void {
    if (this._titles.get(id) !== title) {
      this._titles.set(id, title);
      this._changed.emit(undefined);
    }
  }

  private _titles = new Map<number, string | null>();
  private _asked = new Set<number>();
  private _changed = new Signal<this, void>(this);
}
