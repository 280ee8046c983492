/**
 * The AI sidecar's state as this tab knows it: from `GET status` at start and
 * after every reconnection, then from `sidecar.state` events.
 */
import { TranslationBundle } from '@jupyterlab/translation';
import { ISignal, Signal } from '@lumino/signaling';

import {
  ILLMConfig,
  ISidecarState,
  getStatus,
  restartSidecar
} from '../chat/chatapi';
import { WorkspaceEvent, WorkspaceEvents } from '../common/events';
import { PanelModel } from '../common/panelmodel';
import { errorMessage } from '../common/request';

export class SidecarModel extends PanelModel {
  constructor(options: SidecarModel.IOptions) {
    super();
    this._events = options.events;
    this._events.received.connect(this._onEvent, this);
    this._events.connected.connect(this._onConnected, this);
  }

  /** The last known state; `null` until the first status has arrived. */
  get sidecar(): ISidecarState | null {
    return this._sidecar;
  }

  /** The server's model and address (for tooltips and error texts). */
  get llm(): ILLMConfig | null {
    return this._llm;
  }

  /** True when chat requests can be sent. */
  get ready(): boolean {
    return this._sidecar?.state === 'ready';
  }

  /** When the state last changed (ms since the epoch), for countdowns. */
  get receivedAt(): number {
    return this._receivedAt;
  }

  /** Seconds left before the next start attempt while restarting. */
  get retryIn(): number | null {
    const wait = this._sidecar?.retry_in;
    if (this._sidecar?.state !== 'restarting' || typeof wait !== 'number') {
      return null;
    }
    return Math.max(0, wait - (Date.now() - this._receivedAt) / 1000);
  }

  /** The last failed status or restart request. */
  get requestError(): string {
    return this._requestError;
  }

  /** True while a restart request is on its way. */
  get restarting(): boolean {
    return this._restartPending;
  }

  /**
   * Why chat cannot be used now, in the server's 503 wording; empty when ready.
   */
  unavailableReason(trans: TranslationBundle): string {
    const sidecar = this._sidecar;
    if (!sidecar) {
      return this._requestError
        ? trans.__("Cannot read the AI sidecar's state: %1", this._requestError)
        : trans.__('Checking the AI sidecar…');
    }
    if (sidecar.state === 'ready') {
      return '';
    }
    return trans.__(
      'AI sidecar unavailable (%1): %2',
      sidecar.state,
      sidecar.error || trans.__('it is not ready yet')
    );
  }

  /** Fires with the new state each time it changes (not for repeats). */
  get stateChanged(): ISignal<this, ISidecarState> {
    return this._stateChanged;
  }

  async refresh(): Promise<void> {
    try {
      const status = await getStatus();
      this._llm = status.llm ?? null;
      this._requestError = '';
      if (status.sidecar) {
        this.update(status.sidecar);
      } else {
        this._emit();
      }
    } catch (error) {
      this._requestError = errorMessage(error);
      this._emit();
    }
  }

  /** Leave degraded mode (or restart a running sidecar). */
  async restart(): Promise<void> {
    if (this._restartPending) {
      return;
    }
    this._restartPending = true;
    this._emit();
    try {
      this.update(await restartSidecar());
      this._requestError = '';
    } catch (error) {
      this._requestError = errorMessage(error);
    } finally {
      this._restartPending = false;
      this._emit();
    }
  }

  /** Take a state from an event, a status or a 503 answer's body. */
  update(sidecar: ISidecarState): void {
    if (this._isDisposed) {
      return;
    }
    const previous = this._sidecar;
    this._sidecar = sidecar;
    this._receivedAt = Date.now();
    if (
      !previous ||
      previous.state !== sidecar.state ||
      previous.error !== sidecar.error ||
      previous.retry_in !== sidecar.retry_in
    ) {
      this._stateChanged.emit(sidecar);
    }
    this._emit();
  }

  private _onEvent(_: WorkspaceEvents, event: WorkspaceEvent): void {
    if (event.type === 'sidecar.state') {
      this.update(event.sidecar);
    }
  }

  private _onConnected(): void {
    // State changes may have been missed while the socket was down.
    void this.refresh();
  }

  private _events: WorkspaceEvents;
  private _sidecar: ISidecarState | null = null;
  private _llm: ILLMConfig | null = null;
  private _receivedAt = 0;
  private _requestError = '';
  private _restartPending = false;
  private _stateChanged = new Signal<this, ISidecarState>(this);
}

export namespace SidecarModel {
  export interface IOptions {
    events: WorkspaceEvents;
  }
}
