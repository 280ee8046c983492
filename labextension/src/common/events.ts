/**
 * The one event socket of a browser tab (`WS workspace/api/events`).
 */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';
import { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';

import type {
  ChatErrorKind,
  IChatMessage,
  IConversation,
  ISidecarState
} from '../chat/chatapi';
import type { IRun } from '../pipelines/pipelinesapi';
import type { IResearchJob } from '../research/researchapi';
import type { IIndexStatus, ISourceRef } from '../search/searchapi';
import type { ILLMState } from '../sidecar/llmapi';
import type { INote, ITask } from './api';
import { API_PREFIX, CLIENT_ID, serverSettings } from './request';

/** The events the coordinator sends (docs/api.md, "Events"). */
export type WorkspaceEvent =
  | { type: 'hello'; server_version: string; client_count: number }
  | {
      type: 'note.created' | 'note.updated';
      note: INote;
      origin?: string | null;
    }
  | { type: 'note.deleted'; id: number; origin?: string | null }
  | {
      type: 'task.created' | 'task.updated';
      task: ITask;
      origin?: string | null;
    }
  | { type: 'task.deleted'; id: number; origin?: string | null }
  | {
      /** A file's or note's detections were stored (counts): refetch. */
      type: 'tasks.detected';
      path: string;
      created: number;
      updated: number;
      resolved: number;
      /** Says how many were kept when a file had too many. */
      note?: string;
    }
  | { type: 'entities.changed'; source: string }
  | { type: 'file.changed' | 'file.deleted'; path: string }
  | { type: 'sidecar.state'; sidecar: ISidecarState }
  /** Whether an LLM answers, as the coordinator's probe found (one model and address). */
  | { type: 'llm.state'; llm: ILLMState }
  | {
      type: 'chat.started';
      conversation_id: number;
      stream_id: string;
      message: IChatMessage;
      conversation?: IConversation;
      origin?: string | null;
    }
  | {
      /** The passages a grounded answer was given, before its first token. */
      type: 'chat.context';
      conversation_id: number;
      stream_id: string;
      sources: ISourceRef[];
    }
  | {
      type: 'chat.token';
      conversation_id: number;
      stream_id: string;
      text: string;
    }
  | {
      type: 'chat.done';
      conversation_id: number;
      stream_id: string;
      /** `null` when the conversation was deleted while answering. */
      message: IChatMessage | null;
      cancelled?: boolean;
    }
  | {
      type: 'chat.error';
      conversation_id: number;
      stream_id: string;
      error: string;
      kind: ChatErrorKind;
      message: IChatMessage | null;
    }
  | { type: 'conversation.updated'; conversation: IConversation }
  | { type: 'conversation.deleted'; id: number }
  | ({ type: 'index.progress' } & IIndexStatus)
  /** A run started, ended or was summarized. */
  | { type: 'pipeline.run'; run: IRun }
  /** `workspace.toml` changed: refetch the pipelines. */
  | {
      type: 'pipelines.changed';
      /** workspace.toml was trusted, it changed, or a watch run found it untrusted. */
      reason: 'trusted' | 'config' | 'untrusted';
      /** With `untrusted`: the pipeline whose watch run did not start. */
      pipeline?: string;
    }
  /** A research job was queued, moved on, ended, or its sources changed (no `sources`). */
  | { type: 'research.job'; job: IResearchJob; origin?: string | null }
  | { type: 'research.deleted'; id: number; origin?: string | null }
  /** A document's unsaved buffer was stored: metadata only, as `PUT snapshots` answers. */
  | {
      type: 'snapshot.saved';
      snapshot: {
        id: number;
        path: string;
        kind: 'file' | 'notebook' | 'note';
        client: string;
        size: number;
        created: string;
        content_hash: string;
        base_hash: string | null;
        base_mtime: number | null;
      };
      origin?: string | null;
    }
  /** Snapshots were dropped: discarded, saved, or beyond the history or store cap. */
  | {
      type: 'snapshot.deleted';
      path: string;
      ids: number[];
      origin?: string | null;
    }
  | { type: 'pong' };

export type ConnectionState = 'connecting' | 'open' | 'closed';

/** Delays before reconnecting, in ms; the last one repeats. */
const BACKOFF_MS = [500, 1000, 2000, 4000, 8000, 15000];

/** How often to ping, so proxies do not drop an idle socket. */
const PING_INTERVAL_MS = 30000;

/**
 * Keeps one WebSocket to the coordinator open, reconnecting with backoff.
 *
 * Events that happen while the socket is down are lost, so `connected` fires
 * on every (re)connection and listeners refetch what they show.
 */
export class WorkspaceEvents implements IDisposable {
  constructor(settings: ServerConnection.ISettings = serverSettings()) {
    this._settings = settings;
  }

  /** Every event the server sends. */
  get received(): ISignal<this, WorkspaceEvent> {
    return this._received;
  }

  /** Fires each time the socket opens, the first time included. */
  get connected(): ISignal<this, void> {
    return this._connected;
  }

  /** Fires when the connection state changes. */
  get stateChanged(): ISignal<this, ConnectionState> {
    return this._stateChanged;
  }

  get state(): ConnectionState {
    return this._state;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  /** Open the socket (again); a no-op while one is open or opening. */
  connect(): void {
    if (this._isDisposed || this._socket) {
      return;
    }
    this._clearReconnect();
    this._setState('connecting');
    const socket = new this._settings.WebSocket(this._url());
    this._socket = socket;

    socket.onopen = () => {
      this._attempt = 0;
      this._setState('open');
      this._pingTimer = window.setInterval(() => {
        if (socket.readyState === WebSocket.OPEN) {
          socket.send(JSON.stringify({ type: 'ping' }));
        }
      }, PING_INTERVAL_MS);
      this._connected.emit(undefined);
    };
    socket.onmessage = (message: MessageEvent) => {
      let event: WorkspaceEvent;
      try {
        event = JSON.parse(String(message.data)) as WorkspaceEvent;
      } catch {
        console.warn('jupyter-workspace: ignoring a malformed event');
        return;
      }
      if (event && typeof event.type === 'string') {
        this._received.emit(event);
      }
    };
    socket.onclose = () => {
      if (this._socket !== socket) {
        return;
      }
      this._socket = null;
      window.clearInterval(this._pingTimer);
      this._setState('closed');
      this._scheduleReconnect();
    };
    // An error is always followed by a close, which handles the retry.
    socket.onerror = () => undefined;
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    this._clearReconnect();
    window.clearInterval(this._pingTimer);
    const socket = this._socket;
    this._socket = null;
    if (socket) {
      socket.onclose = null;
      socket.close();
    }
    Signal.clearData(this);
  }

  private _url(): string {
    const url = URLExt.join(this._settings.wsUrl, API_PREFIX, 'events');
    // The tab's id: while this socket is open its snapshots are a live buffer.
    const query = [`client=${encodeURIComponent(CLIENT_ID)}`];
    const token = this._settings.token;
    if (token) {
      query.push(`token=${encodeURIComponent(token)}`);
    }
    return `${url}?${query.join('&')}`;
  }

  private _scheduleReconnect(): void {
    if (this._isDisposed) {
      return;
    }
    const base = BACKOFF_MS[Math.min(this._attempt, BACKOFF_MS.length - 1)];
    this._attempt += 1;
    // Jitter keeps many tabs from reconnecting in lockstep after a restart.
    const delay = base * (0.75 + Math.random() * 0.5);
    this._reconnectTimer = window.setTimeout(() => this.connect(), delay);
  }

  private _clearReconnect(): void {
    if (this._reconnectTimer !== undefined) {
      window.clearTimeout(this._reconnectTimer);
      this._reconnectTimer = undefined;
    }
  }

  private _setState(state: ConnectionState): void {
    if (state !== this._state) {
      this._state = state;
      this._stateChanged.emit(state);
    }
  }

  private _settings: ServerConnection.ISettings;
  private _socket: WebSocket | null = null;
  private _attempt = 0;
  private _reconnectTimer: number | undefined = undefined;
  private _pingTimer: number | undefined = undefined;
  private _state: ConnectionState = 'closed';
  private _isDisposed = false;
  private _received = new Signal<this, WorkspaceEvent>(this);
  private _connected = new Signal<this, void>(this);
  private _stateChanged = new Signal<this, ConnectionState>(this);
}
