/**
 * The state of the Chat panel: conversations, the open one's messages, the
 * answers streaming in, the input.
 *
 * Every tab sees every stream: `chat.started` / `chat.token` / `chat.done` /
 * `chat.error` are broadcast, so answers are buffered per stream whichever
 * conversation is open, and a conversation opened later shows its answer
 * growing from where this tab joined.
 */
import { TranslationBundle } from '@jupyterlab/translation';
import { ISignal, Signal } from '@lumino/signaling';

import { WorkspaceEvent, WorkspaceEvents } from '../common/events';
import { PanelModel } from '../common/panelmodel';
import { WorkspaceRequestError, errorMessage } from '../common/request';
import { SidecarModel } from '../sidecar/sidecarmodel';
import {
  ChatErrorKind,
  IChatMessage,
  IChatStarted,
  IConversation,
  ILLMOverrides,
  ISidecarState,
  cancelChat,
  deleteConversation,
  getConversation,
  guessErrorKind,
  listConversations,
  renameConversation,
  retryChat,
  sendChat
} from './chatapi';
import { ChatStreams, IStream } from './chatstreams';

/** The shortest time between two re-renders of a growing answer, in ms. */
const STREAM_EMIT_MS = 60;

/** What this tab knows about a stored answer beyond its fields. */
export interface IMessageInfo {
  /** The answer was stopped by a user (a `partial` may also be a broken stream). */
  stopped?: boolean;
  /**
   * The error kind: the stored `error_kind`, else the `chat.error` event's,
   * else (old rows only) guessed from the text.
   */
  kind?: ChatErrorKind;
}

function byNewest(a: IConversation, b: IConversation): number {
  return b.updated.localeCompare(a.updated) || b.id - a.id;
}

export class ChatModel extends PanelModel {
  constructor(options: ChatModel.IOptions) {
    super();
    this._events = options.events;
    this._sidecar = options.sidecar;
    this._trans = options.trans;
    this._events.received.connect(this._onEvent, this);
    this._events.connected.connect(this._onConnected, this);
    this._sidecar.stateChanged.connect(this._onSidecarState, this);
  }

  /** The model and address sent with each request (empty: server default). */
  overrides: ILLMOverrides = { model: '', apiBase: '' };

  get sidecar(): SidecarModel {
    return this._sidecar;
  }

  /** Conversations, newest first. */
  get conversations(): ReadonlyArray<IConversation> {
    return this._conversations;
  }

  /** The open conversation's id; `null` for a new, not yet asked chat. */
  get currentId(): number | null {
    return this._currentId;
  }

  get current(): IConversation | null {
    return this._conversations.find(c => c.id === this._currentId) ?? null;
  }

  /** The open conversation's stored messages, oldest first. */
  get messages(): ReadonlyArray<IChatMessage> {
    return this._messages;
  }

  /** The answer streaming in the open conversation, if any. */
  get currentStream(): IStream | null {
    if (this._currentId === null) {
      return null;
    }
    return this.streamOf(this._currentId);
  }

  /** True until the first list has arrived. */
  get loading(): boolean {
    return this._loading;
  }

  /** True while the open conversation's messages are being fetched. */
  get loadingMessages(): boolean {
    return this._loadingMessages;
  }

  /** True while a question is on its way to the server. */
  get sending(): boolean {
    return this._sending;
  }

  /** Something the user should know that is not an error. */
  get notice(): string {
    return this._notice;
  }

  /** Why the last question or retry was not accepted (e.g. the 503 reason). */
  get sendError(): string {
    return this._sendError;
  }

  /** The text in the input box. */
  get input(): string {
    return this._input;
  }

  get inputChanged(): ISignal<this, void> {
    return this._inputChanged;
  }

  /** The stream answering in a conversation, if this tab knows one. */
  streamOf(conversationId: number): IStream | null {
    return this._streams.of(conversationId);
  }

  /** What this tab knows about a stored answer (stopped, error kind). */
  infoOf(message: IChatMessage): IMessageInfo {
    const info = this._info.get(message.id) ?? {};
    if (message.status === 'error') {
      const kind =
        message.error_kind ?? info.kind ?? guessErrorKind(message.error);
      return { ...info, kind };
    }
    return info;
  }

  setInput(text: string): void {
    if (text !== this._input) {
      this._input = text;
      this._inputChanged.emit(undefined);
    }
  }

  /** Add text to the end of the input (after a blank line if it has text). */
  appendToInput(text: string): void {
    const current = this._input.replace(/\s+$/, '');
    this.setInput(current ? `${current}\n\n${text}` : text);
  }

  /** Fetch the conversation list again. */
  async refresh(): Promise<void> {
    const generation = ++this._listGeneration;
    // Only streams known before asking can have ended unseen; one that
    // started while the list was on its way is not in it yet.
    const known = this._streams.ids();
    try {
      const conversations = await listConversations();
      if (generation !== this._listGeneration || this._isDisposed) {
        return;
      }
      this._conversations = [...conversations].sort(byNewest);
      this._loading = false;
      // Streams this tab has not seen start (the page loaded mid-answer).
      for (const conversation of conversations) {
        if (conversation.streaming) {
          this._streams.ensure(conversation.streaming, conversation.id, true);
        }
      }
      // Streams that ended while the socket was down.
      const live = new Set(conversations.map(c => c.streaming).filter(Boolean));
      for (const id of known) {
        if (!live.has(id)) {
          this._streams.forget(id);
        }
      }
      this._emit();
    } catch (error) {
      this._loading = false;
      this._fail(error);
    }
  }

  /** Show a new, empty chat; the first question creates the conversation. */
  newChat(): void {
    this._currentId = null;
    this._messages = [];
    this._loadingMessages = false;
    this._notice = '';
    this._sendError = '';
    this._openGeneration++;
    this._emit();
  }

  /** Open a conversation and load its messages. */
  async open(id: number): Promise<void> {
    if (this._currentId === id && !this._loadingMessages) {
      return;
    }
    this._currentId = id;
    this._messages = [];
    this._notice = '';
    this._sendError = '';
    await this._loadMessages();
  }

  /** Ask the question in the input; the input is cleared once the server accepts it. */
  async send(): Promise<boolean> {
    const text = this._input;
    if (!text.trim() || this._sending || this.currentStream) {
      return false;
    }
    const conversationId = this._currentId;
    return this._ask(() => sendChat(text, conversationId, this.overrides), {
      clearInput: text
    });
  }

  /** Ask the open conversation's last question again. */
  async retry(): Promise<boolean> {
    const conversationId = this._currentId;
    if (conversationId === null || this._sending || this.currentStream) {
      return false;
    }
    return this._ask(() => retryChat(conversationId, this.overrides), {});
  }

  /** Stop the answer streaming in the open conversation; what arrived stays. */
  async stop(): Promise<void> {
    const stream = this.currentStream;
    if (!stream || stream.stopping) {
      return;
    }
    stream.stopping = true;
    this._emit();
    try {
      await cancelChat(stream.id);
    } catch (error) {
      if (error instanceof WorkspaceRequestError && error.status === 404) {
        // It finished first; its chat.done / chat.error has arrived or will.
        return;
      }
      stream.stopping = false;
      this._fail(error);
    }
  }

  async rename(id: number, title: string): Promise<void> {
    try {
      this._upsertConversation(await renameConversation(id, title));
    } catch (error) {
      this._fail(error);
    }
  }

  /** Delete a conversation (the caller has asked the user). */
  async remove(id: number): Promise<void> {
    this._deletedHere.add(id);
    try {
      await deleteConversation(id);
      this._removeConversation(id);
    } catch (error) {
      this._deletedHere.delete(id);
      this._fail(error);
    }
  }

  /** Show a short message in the panel (e.g. "no editor to insert into"). */
  showNotice(text: string): void {
    this._notice = text;
    this._emit();
  }

  /** Show an error in the panel's banner (e.g. a cited file is missing). */
  showError(text: string): void {
    this._error = text;
    this._emit();
  }

  dismissNotice(): void {
    this._notice = '';
    this._emit();
  }

  dismissSendError(): void {
    this._sendError = '';
    this._emit();
  }

  dispose(): void {
    window.clearTimeout(this._emitTimer);
    super.dispose();
  }

  private async _ask(
    request: () => Promise<IChatStarted>,
    options: { clearInput?: string }
  ): Promise<boolean> {
    this._sending = true;
    this._sendError = '';
    this._emit();
    try {
      const started = await request();
      if (this._isDisposed) {
        return false;
      }
      const id = started.conversation.id;
      if (
        options.clearInput !== undefined &&
        this._input === options.clearInput
      ) {
        this.setInput('');
      }
      this._upsertConversation(started.conversation);
      this._streams.ensure(started.stream_id, id, false);
      if (this._currentId !== id) {
        // A new conversation: this tab opens it.
        this._currentId = id;
        this._messages = [];
        this._loadingMessages = false;
        this._openGeneration++;
      }
      this._applyStarted(started.message);
      if (this._streams.hasEnded(started.stream_id)) {
        // The answer ended before this response arrived: fetch what was stored.
        void this._loadMessages();
      }
      return true;
    } catch (error) {
      this._sendErrorIsUnavailable =
        error instanceof WorkspaceRequestError && error.status === 503;
      if (error instanceof WorkspaceRequestError && error.status === 503) {
        const sidecar = error.body?.sidecar;
        if (sidecar && typeof sidecar === 'object') {
          this._sidecar.update(sidecar as ISidecarState);
        }
      }
      this._sendError = errorMessage(error);
      return false;
    } finally {
      this._sending = false;
      this._emit();
    }
  }

  /** A "sidecar unavailable" answer is out of date once it is ready. */
  private _onSidecarState(): void {
    if (this._sidecar.ready && this._sendErrorIsUnavailable) {
      this._sendErrorIsUnavailable = false;
      this._sendError = '';
      this._emit();
    }
  }

  private async _loadMessages(): Promise<void> {
    const id = this._currentId;
    if (id === null) {
      return;
    }
    const generation = ++this._openGeneration;
    this._loadingMessages = true;
    this._replay = [];
    this._emit();
    try {
      const conversation = await getConversation(id);
      if (generation !== this._openGeneration || this._isDisposed) {
        return;
      }
      const replay = this._replay ?? [];
      this._replay = null;
      this._messages = conversation.messages;
      this._loadingMessages = false;
      const { messages: _, ...summary } = conversation;
      this._upsertConversation(summary);
      if (conversation.streaming) {
        this._streams.ensure(conversation.streaming, id, true);
      }
      // Events that arrived while the messages were on their way.
      replay.forEach(event => this._applyToMessages(event));
      this._emit();
    } catch (error) {
      if (generation !== this._openGeneration) {
        return;
      }
      this._replay = null;
      this._loadingMessages = false;
      if (error instanceof WorkspaceRequestError && error.status === 404) {
        this._removeConversation(id);
        this._notice = this._trans.__('That conversation no longer exists.');
        this._emit();
        return;
      }
      this._fail(error);
    }
  }

  private _onEvent(_: WorkspaceEvents, event: WorkspaceEvent): void {
    switch (event.type) {
      case 'chat.started':
        this._streams.ensure(event.stream_id, event.conversation_id, false);
        if (event.conversation) {
          this._upsertConversation(event.conversation);
        } else {
          this._touchConversation(event.conversation_id, event.stream_id);
        }
        this._toMessages(event);
        this._emit();
        break;
      case 'chat.context': {
        // Published before the first token, so nothing was missed yet.
        const stream = this._streams.ensure(
          event.stream_id,
          event.conversation_id,
          false
        );
        stream.sources = event.sources;
        if (stream.conversationId === this._currentId) {
          this._emit();
        }
        break;
      }
      case 'chat.token': {
        let stream = this._streams.get(event.stream_id);
        if (!stream) {
          stream = this._streams.ensure(
            event.stream_id,
            event.conversation_id,
            true
          );
        }
        stream.text += event.text;
        if (stream.conversationId === this._currentId) {
          this._emitSoon();
        }
        break;
      }
      case 'chat.done':
      case 'chat.error': {
        this._streams.end(event.stream_id);
        const message = event.message;
        if (message) {
          this._info.set(
            message.id,
            event.type === 'chat.done'
              ? { stopped: Boolean(event.cancelled) }
              : { kind: event.kind }
          );
        }
        this._touchConversation(
          event.conversation_id,
          null,
          message?.created ?? null
        );
        this._toMessages(event);
        this._emit();
        break;
      }
      case 'conversation.updated':
        this._upsertConversation(event.conversation);
        break;
      case 'conversation.deleted':
        this._removeConversation(event.id);
        break;
      default:
        break;
    }
  }

  /** Apply a chat event to the open conversation's messages (or queue it). */
  private _toMessages(event: WorkspaceEvent): void {
    if (
      !('conversation_id' in event) ||
      event.conversation_id !== this._currentId
    ) {
      return;
    }
    if (this._replay) {
      this._replay.push(event);
    } else {
      this._applyToMessages(event);
    }
  }

  private _applyToMessages(event: WorkspaceEvent): void {
    if (event.type === 'chat.started') {
      this._applyStarted(event.message);
    } else if (
      (event.type === 'chat.done' || event.type === 'chat.error') &&
      event.message
    ) {
      this._upsertMessage(event.message);
    }
  }

  /** A question was (re-)asked: a retry drops the answers after it. */
  private _applyStarted(question: IChatMessage): void {
    if (question.conversation_id !== this._currentId) {
      return;
    }
    this._messages = this._messages.filter(m => m.id < question.id);
    this._messages.push(question);
  }

  private _upsertMessage(message: IChatMessage): void {
    if (message.conversation_id !== this._currentId) {
      return;
    }
    const others = this._messages.filter(m => m.id !== message.id);
    this._messages = [...others, message].sort((a, b) => a.id - b.id);
  }

  private async _onConnected(): Promise<void> {
    const reconnect = this._connectedBefore;
    this._connectedBefore = true;
    if (reconnect) {
      // Tokens may have been missed while the socket was down.
      this._streams.markJoinedLate();
    }
    await this.refresh();
    if (reconnect && this._currentId !== null) {
      await this._loadMessages();
    }
  }

  /** Note locally that a conversation started or stopped answering. */
  private _touchConversation(
    id: number,
    streaming: string | null,
    updated: string | null = null
  ): void {
    const existing = this._conversations.find(c => c.id === id);
    if (!existing) {
      // Another tab's new conversation whose details this tab lacks.
      void this.refresh();
      return;
    }
    this._upsertConversation({
      ...existing,
      streaming,
      updated: updated ?? existing.updated
    });
  }

  private _upsertConversation(conversation: IConversation): void {
    const others = this._conversations.filter(c => c.id !== conversation.id);
    this._conversations = [conversation, ...others].sort(byNewest);
    this._emit();
  }

  private _removeConversation(id: number): void {
    const deletedHere = this._deletedHere.delete(id);
    this._conversations = this._conversations.filter(c => c.id !== id);
    this._streams.forgetConversation(id);
    if (this._currentId === id) {
      this._currentId = null;
      this._messages = [];
      this._loadingMessages = false;
      this._openGeneration++;
      if (!deletedHere) {
        this._notice = this._trans.__(
          'The open conversation was deleted elsewhere.'
        );
      }
    }
    this._emit();
  }

  /** Re-render soon: a growing answer re-renders at most every STREAM_EMIT_MS. */
  private _emitSoon(): void {
    if (this._emitTimer === undefined) {
      this._emitTimer = window.setTimeout(() => this._emit(), STREAM_EMIT_MS);
    }
  }

  protected _emit(): void {
    window.clearTimeout(this._emitTimer);
    this._emitTimer = undefined;
    super._emit();
  }

  private _events: WorkspaceEvents;
  private _trans: TranslationBundle;
  private _sidecar: SidecarModel;
  private _conversations: IConversation[] = [];
  private _currentId: number | null = null;
  private _messages: IChatMessage[] = [];
  private _streams = new ChatStreams();
  private _info = new Map<number, IMessageInfo>();
  private _deletedHere = new Set<number>();
  private _replay: WorkspaceEvent[] | null = null;
  private _input = '';
  private _loading = true;
  private _loadingMessages = false;
  private _sending = false;
  private _notice = '';
  private _sendError = '';
  private _sendErrorIsUnavailable = false;
  private _listGeneration = 0;
  private _openGeneration = 0;
  private _connectedBefore = false;
  private _emitTimer: number | undefined = undefined;
  private _inputChanged = new Signal<this, void>(this);
}

export namespace ChatModel {
  export interface IOptions {
    events: WorkspaceEvents;
    sidecar: SidecarModel;
    trans: TranslationBundle;
  }
}
