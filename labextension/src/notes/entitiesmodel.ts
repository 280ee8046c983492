/**
 * The entities one note mentions, kept current while the note is open, and
 * the "refine with the LLM" request for it.
 */
import { TranslationBundle } from '@jupyterlab/translation';

import { WorkspaceEvent, WorkspaceEvents } from '../common/events';
import { PanelModel } from '../common/panelmodel';
import { llmFailure } from '../common/request';
import {
  IEntity,
  listEntities,
  noteSource,
  refineEntities
} from './entitiesapi';

/** Quiet time after an `entities.changed` before refetching. */
const REFETCH_DELAY_MS = 300;

/**
 * What the last refine said: how many entities the note mentions now (the
 * rules' and the LLM's), or why it failed.
 */
export type RefineOutcome =
  { ok: true; found: number } | { ok: false; message: string };

/** Why a refine failed, in words that say what to do about it. */
export function refineFailure(
  error: unknown,
  trans: TranslationBundle
): string {
  return llmFailure(error, trans.__('Refining the entities failed'), trans);
}

export class NoteEntities extends PanelModel {
  constructor(options: NoteEntities.IOptions) {
    super();
    this.note = options.note;
    this.source = noteSource(options.note);
    this._events = options.events;
    this._trans = options.trans;
    this._events.received.connect(this._onEvent, this);
    this._events.connected.connect(() => void this.refresh(), this);
  }

  /** The note's id, and its `@notes/<id>` source. */
  readonly note: number;
  readonly source: string;

  /** The entities mentioned in the note, most mentioned first. */
  get entities(): ReadonlyArray<IEntity> {
    return this._entities;
  }

  /** True while the LLM is being asked. */
  get refining(): boolean {
    return this._refining;
  }

  /** The last refine's result, until dismissed or the next refine. */
  get refineOutcome(): RefineOutcome | null {
    return this._refineOutcome;
  }

  async refresh(): Promise<void> {
    window.clearTimeout(this._refetchTimer);
    const generation = ++this._generation;
    try {
      const entities = await listEntities(this.source);
      if (generation === this._generation && !this._isDisposed) {
        this._entities = entities;
        this._emit();
      }
    } catch (error) {
      if (generation === this._generation) {
        this._fail(error);
      }
    }
  }

  /** Ask the LLM for the note's entities (the caller saves the note first). */
  async refine(): Promise<void> {
    if (this._refining) {
      return;
    }
    this._refining = true;
    this._refineOutcome = null;
    this._emit();
    let outcome: RefineOutcome;
    let entities: IEntity[] | null = null;
    try {
      // The answer is the note's whole list, the rules' entities included.
      entities = await refineEntities(this.note);
      outcome = { ok: true, found: entities.length };
    } catch (error) {
      outcome = { ok: false, message: refineFailure(error, this._trans) };
    }
    if (this._isDisposed) {
      return;
    }
    if (entities) {
      // Newer than any list request still on its way.
      this._generation++;
      this._entities = entities;
    }
    this._refining = false;
    this._refineOutcome = outcome;
    this._emit();
  }

  dismissRefineOutcome(): void {
    this._refineOutcome = null;
    this._emit();
  }

  dispose(): void {
    window.clearTimeout(this._refetchTimer);
    super.dispose();
  }

  private _onEvent(_: WorkspaceEvents, event: WorkspaceEvent): void {
    if (event.type === 'entities.changed' && event.source === this.source) {
      window.clearTimeout(this._refetchTimer);
      this._refetchTimer = window.setTimeout(
        () => void this.refresh(),
        REFETCH_DELAY_MS
      );
    }
  }

  private _events: WorkspaceEvents;
  private _trans: TranslationBundle;
  private _entities: IEntity[] = [];
  private _refining = false;
  private _refineOutcome: RefineOutcome | null = null;
  private _generation = 0;
  private _refetchTimer: number | undefined = undefined;
}

export namespace NoteEntities {
  export interface IOptions {
    events: WorkspaceEvents;
    trans: TranslationBundle;
    note: number;
  }
}
