/**
 * The AI sidecar's state as this tab knows it: from `GET status` at start and
 * after every reconnection, then from `sidecar.state` events. With it, what
 * the status bar tells besides: the index's progress (`index.progress`) and
 * whether the LLM this tab's chat asks answers (`llm.state`, `POST llm/check`).
 */
import { TranslationBundle } from '@jupyterlab/translation';
import { ISignal, Signal } from '@lumino/signaling';

import {
  ILLMOverrides,
  ISidecarState,
  getStatus,
  restartSidecar
} from '../chat/chatapi';
import { WorkspaceEvent, WorkspaceEvents } from '../common/events';
import { PanelModel } from '../common/panelmodel';
import { errorMessage } from '../common/request';
import type { IIndexStatus } from '../search/searchapi';
import { ILLMState, checkLLM } from './llmapi';

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

  /**
   * The model and address this tab's chat asks (the server's, or the
   * settings' overrides) and whether it answers; `null` before the status.
   */
  get llm(): ILLMState | null {
    return this._llm;
  }

  /** The index's last reported state and counts; `null` before the status. */
  get index(): IIndexStatus | null {
    return this._index;
  }

  /** True while a connection test asked for by the user is on its way. */
  get testingLLM(): boolean {
    return this._testingLLM;
  }

  /** Why the last connection test could not be made (empty if it was). */
  get llmCheckError(): string {
    return this._llmCheckError;
  }

  /**
   * Why the LLM cannot be asked now, for the user; empty while it answers or
   * cannot be known (a provider's default address is not probed).
   */
  llmUnavailableReason(trans: TranslationBundle): string {
    const llm = this._llm;
    if (llm?.state === 'unreachable') {
      return trans.__('No LLM answers at %1.', llmAddress(llm));
    }
    if (llm?.state === 'no_model') {
      return trans.__(
        'The LLM server at %1 does not have the model %2.',
        llmAddress(llm),
        modelName(llm.model)
      );
    }
    return '';
  }

  /**
   * The chat's model and address from the settings (empty: the server's);
   * a change is checked at once.
   */
  set overrides(overrides: ILLMOverrides) {
    const model = overrides.model.trim();
    const apiBase = overrides.apiBase.trim();
    if (
      model === this._overrides.model &&
      apiBase === this._overrides.apiBase
    ) {
      return;
    }
    const first = this._overridesSet;
    this._overrides = { model, apiBase };
    this._overridesSet = true;
    if (!first && !model && !apiBase) {
      return; // the settings' first load, with nothing to override
    }
    void this.checkLLM();
  }

  /**
   * Ask the coordinator whether the LLM answers; `force` probes again even
   * if it was checked a moment ago (the Test connection button).
   */
  async checkLLM(force = false): Promise<void> {
    if (force) {
      this._testingLLM = true;
      this._emit();
    }
    try {
      this._setLLM(await checkLLM(this._overrides, force));
      this._llmCheckError = '';
    } catch (error) {
      this._llmCheckError = errorMessage(error);
    } finally {
      this._testingLLM = false;
      this._emit();
    }
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

  /** Fires when whether the LLM answers changes. */
  get llmChanged(): ISignal<this, ILLMState> {
    return this._llmChanged;
  }

  async refresh(): Promise<void> {
    try {
      const status = await getStatus();
      this._index = status.index ?? this._index;
      if (this._overrides.model || this._overrides.apiBase) {
        void this.checkLLM();
      } else if (status.llm) {
        this._setLLM(status.llm);
      }
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
    } else if (event.type === 'index.progress') {
      const { type: _type, ...index } = event;
      this._index = index;
      this._emit();
    } else if (event.type === 'llm.state') {
      // Another model or address than this tab's chat asks is not its concern.
      const llm = this._llm;
      if (
        llm &&
        llm.model === event.llm.model &&
        llm.api_base === event.llm.api_base
      ) {
        this._setLLM(event.llm);
      }
    }
  }

  private _setLLM(llm: ILLMState): void {
    const previous = this._llm;
    this._llm = llm;
    this._emit();
    if (previous?.state !== llm.state) {
      this._llmChanged.emit(llm);
    }
  }

  private _onConnected(): void {
    // State changes may have been missed while the socket was down.
    void this.refresh();
  }

  private _events: WorkspaceEvents;
  private _sidecar: ISidecarState | null = null;
  private _llm: ILLMState | null = null;
  private _index: IIndexStatus | null = null;
  private _overrides: ILLMOverrides = { model: '', apiBase: '' };
  private _overridesSet = false;
  private _testingLLM = false;
  private _llmCheckError = '';
  private _llmChanged = new Signal<this, ILLMState>(this);
  private _receivedAt = 0;
  private _requestError = '';
  private _restartPending = false;
  private _stateChanged = new Signal<this, ISidecarState>(this);
}

/** Where the LLM is, as a user names it: `host:port`, or the provider's name. */
export function llmAddress(llm: ILLMState): string {
  if (!llm.api_base) {
    return modelName(llm.model, true);
  }
  try {
    return new URL(llm.api_base).host;
  } catch {
    return llm.api_base;
  }
}

/** `llama3.2` of `ollama_chat/llama3.2`; with `provider`, `ollama_chat`. */
export function modelName(model: string, provider = false): string {
  const slash = model.indexOf('/');
  if (slash < 0) {
    return model;
  }
  return provider ? model.slice(0, slash) : model.slice(slash + 1);
}

export namespace SidecarModel {
  export interface IOptions {
    events: WorkspaceEvents;
  }
}
