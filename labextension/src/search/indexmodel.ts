/**
 * The search index's state as this tab knows it: `GET index` at start and
 * after every reconnection, then `index.progress` events.
 */
import { ISignal, Signal } from '@lumino/signaling';

import { WorkspaceEvent, WorkspaceEvents } from '../common/events';
import { PanelModel } from '../common/panelmodel';
import { errorMessage } from '../common/request';
import { IIndexStatus, IndexStateName, getIndexStatus } from './searchapi';

export class IndexModel extends PanelModel {
  constructor(options: IndexModel.IOptions) {
    super();
    this._events = options.events;
    this._events.received.connect(this._onEvent, this);
    this._events.connected.connect(this._onConnected, this);
  }

  /** The last known status; `null` until the first one has arrived. */
  get status(): IIndexStatus | null {
    return this._status;
  }

  /** The state, or `unknown` before the first status. */
  get state(): IndexStateName | 'unknown' {
    return this._status?.state ?? 'unknown';
  }

  /** The last failed `GET index`, if the status could not be read. */
  get requestError(): string {
    return this._requestError;
  }

  /** Fires with the new state each time it changes (not for progress). */
  get stateChanged(): ISignal<this, IndexStateName> {
    return this._stateChanged;
  }

  async refresh(): Promise<void> {
    const generation = ++this._generation;
    try {
      const status = await getIndexStatus();
      if (generation === this._generation) {
        this._requestError = '';
        this.update(status);
      }
    } catch (error) {
      if (generation === this._generation && !this._isDisposed) {
        this._requestError = errorMessage(error);
        this._emit();
      }
    }
  }

  update(status: IIndexStatus): void {
    if (this._isDisposed) {
      return;
    }
    const previous = this._status?.state;
    this._status = status;
    if (previous !== status.state) {
      this._stateChanged.emit(status.state);
    }
    this._emit();
  }

  private _onEvent(_: WorkspaceEvents, event: WorkspaceEvent): void {
    if (event.type === 'index.progress') {
      // An event is newer than any status request still on its way.
      this._generation++;
      this._requestError = '';
      const { type: _type, ...status } = event;
      this.update(status);
    }
  }

  private _onConnected(): void {
    // Progress may have been missed while the socket was down.
    void this.refresh();
  }

  private _events: WorkspaceEvents;
  private _status: IIndexStatus | null = null;
  private _requestError = '';
  private _generation = 0;
  private _stateChanged = new Signal<this, IndexStateName>(this);
}

export namespace IndexModel {
  export interface IOptions {
    events: WorkspaceEvents;
  }
}
