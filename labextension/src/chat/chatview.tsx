/**
 * The Chat panel (right sidebar): conversations, the open conversation's
 * messages with the answer streaming in, and the input.
 */
import { Dialog, ReactWidget, showDialog } from '@jupyterlab/apputils';
import { Time } from '@jupyterlab/coreutils';
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import {
  addIcon,
  caretDownIcon,
  caretRightIcon,
  deleteIcon,
  editIcon
} from '@jupyterlab/ui-components';
import * as React from 'react';

import { ISource } from '../common/api';
import { Banner, ErrorBanner } from '../common/banner';
import { ConnectionStatus } from '../common/connectionstatus';
import { WorkspaceEvents } from '../common/events';
import { useClock, useRerenderOn } from '../common/hooks';
import { chatIcon } from '../common/icons';
import { errorMessage } from '../common/request';
import { SourceLink } from '../common/sourcelink';
import { ISourceRef, formatRange } from '../search/searchapi';
import {
  ChatErrorKind,
  IChatMessage,
  IConversation,
  ILLMConfig
} from './chatapi';
import { ChatMarkdown, ICitations, ICodeActions } from './chatmarkdown';
import { ChatModel, IStream } from './chatmodel';
import { SidecarModel } from './sidecarmodel';

export const CHAT_ID = 'jupyter-workspace:chat';

/** Ask before deleting a conversation; resolves to whether the user agreed. */
async function confirmDelete(title: string): Promise<boolean> {
  const result = await showDialog({
    title: 'Delete conversation?',
    body: `Delete “${title || 'New chat'}” and all its messages? This cannot be undone.`,
    buttons: [Dialog.cancelButton(), Dialog.warnButton({ label: 'Delete' })]
  });
  return result.button.accept;
}

/** The headline of an error answer, by kind; the server's text follows it. */
function errorHeadline(
  kind: ChatErrorKind,
  model: string | null,
  llm: ILLMConfig | null,
  apiBaseOverride: string
): string {
  const usedModel = model || llm?.model || 'the model';
  switch (kind) {
    case 'unreachable': {
      const where =
        apiBaseOverride.trim() ||
        llm?.api_base ||
        "the provider's default address";
      const hint = usedModel.startsWith('ollama')
        ? 'is Ollama running (`ollama serve`)?'
        : 'is the LLM server running?';
      return `No LLM reachable at ${where} — ${hint}`;
    }
    case 'auth':
      return `The provider refused the API key for ${usedModel}. API keys are set on the server only (WorkspaceApp.llm_api_key or the provider's environment variable).`;
    case 'rate_limit':
      return `The provider is rate-limiting ${usedModel}: wait a moment, then retry.`;
    case 'not_found':
      return `The provider does not know the model “${usedModel}”: check the model name (the llmModel setting or the server's WorkspaceApp.llm_model).`;
    case 'timeout':
      return `${usedModel} did not answer in time.`;
    case 'sidecar':
      return 'The AI sidecar stopped while answering; it is being restarted.';
    case 'bad_request':
      return `The provider refused the request for ${usedModel}.`;
    default:
      return 'The answer failed.';
  }
}

export interface IChatViewProps {
  model: ChatModel;
  events: WorkspaceEvents;
  rendermime: IRenderMimeRegistry;
  codeActions: ICodeActions;
  /** Opens a file at a line; rejects with a message for the user. */
  openSource: (source: ISource) => Promise<void>;
}

/** The whole panel. */
export function ChatView(props: IChatViewProps): JSX.Element {
  const { model, events, rendermime, codeActions } = props;
  const openSource = React.useCallback(
    (source: ISource) => {
      props.openSource(source).catch(reason => {
        model.showError(errorMessage(reason));
      });
    },
    [props.openSource, model]
  );
  useRerenderOn(model.changed);
  const [listOpen, setListOpen] = React.useState(true);
  const conversations = model.conversations;

  return (
    <div className="jp-Workspace-chatRoot">
      <div className="jp-Workspace-header jp-Workspace-chatHeader">
        <div className="jp-Workspace-chatTitleRow">
          <h2 className="jp-Workspace-heading">Workspace Chat</h2>
          <button
            type="button"
            className="jp-Workspace-newConversation jp-Workspace-iconButton"
            onClick={() => {
              model.newChat();
              focusChatInput();
            }}
            aria-label="New chat"
            title="New chat"
          >
            <addIcon.react tag="span" />
          </button>
        </div>
        <ConnectionStatus events={events} />
      </div>
      <section
        className="jp-Workspace-conversations"
        aria-label="Conversations"
      >
        <button
          type="button"
          className="jp-Workspace-conversationsToggle"
          aria-expanded={listOpen}
          onClick={() => setListOpen(!listOpen)}
        >
          {listOpen ? (
            <caretDownIcon.react tag="span" elementSize="small" />
          ) : (
            <caretRightIcon.react tag="span" elementSize="small" />
          )}
          <span>Conversations ({conversations.length})</span>
        </button>
        {listOpen && (
          <ConversationList
            model={model}
            conversations={conversations}
            currentId={model.currentId}
          />
        )}
      </section>
      <ErrorBanner
        message={model.error}
        onDismiss={() => model.dismissError()}
      />
      {model.notice && (
        <Banner kind="info" onDismiss={() => model.dismissNotice()}>
          {model.notice}
        </Banner>
      )}
      <MessageList
        model={model}
        rendermime={rendermime}
        codeActions={codeActions}
        openSource={openSource}
      />
      <Composer model={model} sidecar={model.sidecar} />
    </div>
  );
}

/** Put the cursor at the end of the chat input, once pending activations ran. */
export function focusChatInput(): void {
  requestAnimationFrame(() =>
    requestAnimationFrame(() => {
      const input = document.querySelector<HTMLTextAreaElement>(
        `[id="${CHAT_ID}"] .jp-Workspace-chatInput`
      );
      if (input) {
        input.focus();
        const end = input.value.length;
        input.setSelectionRange(end, end);
        input.scrollTop = input.scrollHeight;
      }
    })
  );
}

interface IConversationListProps {
  model: ChatModel;
  conversations: ReadonlyArray<IConversation>;
  currentId: number | null;
}

function ConversationList(props: IConversationListProps): JSX.Element {
  const { model, conversations, currentId } = props;
  useClock();
  const [renaming, setRenaming] = React.useState<number | null>(null);

  const onDelete = async (conversation: IConversation) => {
    if (await confirmDelete(conversation.title)) {
      await model.remove(conversation.id);
    }
  };

  return (
    <ul className="jp-Workspace-conversationList" aria-label="Conversations">
      {conversations.map(conversation => (
        <ConversationItem
          key={conversation.id}
          conversation={conversation}
          selected={conversation.id === currentId}
          streaming={Boolean(
            conversation.streaming || model.streamOf(conversation.id)
          )}
          renaming={renaming === conversation.id}
          onOpen={() => void model.open(conversation.id)}
          onStartRename={() => setRenaming(conversation.id)}
          onRename={title => {
            setRenaming(null);
            if (title && title !== conversation.title) {
              void model.rename(conversation.id, title);
            }
          }}
          onCancelRename={() => setRenaming(null)}
          onDelete={() => void onDelete(conversation)}
        />
      ))}
      {!model.loading && conversations.length === 0 && (
        <li className="jp-Workspace-empty">
          No conversations yet. Ask a question below.
        </li>
      )}
    </ul>
  );
}

interface IConversationItemProps {
  conversation: IConversation;
  selected: boolean;
  streaming: boolean;
  renaming: boolean;
  onOpen: () => void;
  onStartRename: () => void;
  onRename: (title: string) => void;
  onCancelRename: () => void;
  onDelete: () => void;
}

function ConversationItem(props: IConversationItemProps): JSX.Element {
  const { conversation, selected, streaming, renaming } = props;
  const title = conversation.title || 'New chat';
  const [draft, setDraft] = React.useState(title);
  const input = React.useRef<HTMLInputElement>(null);

  React.useEffect(() => {
    if (renaming) {
      setDraft(title);
      input.current?.focus();
      input.current?.select();
    }
  }, [renaming]);

  return (
    <li
      className={`jp-Workspace-conversationItem${
        selected ? ' jp-mod-selected' : ''
      }`}
      data-id={conversation.id}
    >
      {renaming ? (
        <input
          ref={input}
          className="jp-Workspace-conversationTitleInput jp-Workspace-input"
          value={draft}
          maxLength={200}
          aria-label="Conversation title"
          onChange={event => setDraft(event.target.value)}
          onKeyDown={event => {
            if (event.key === 'Enter') {
              event.preventDefault();
              props.onRename(draft.trim());
            } else if (event.key === 'Escape') {
              event.preventDefault();
              props.onCancelRename();
            }
          }}
          onBlur={() => props.onRename(draft.trim())}
        />
      ) : (
        <button
          type="button"
          className="jp-Workspace-conversationOpen"
          onClick={props.onOpen}
          aria-current={selected ? 'true' : undefined}
          title={title}
        >
          <span className="jp-Workspace-conversationTitle">{title}</span>
          {streaming && (
            <span
              className="jp-Workspace-conversationBusy"
              aria-label="answering"
              title="Answering…"
            />
          )}
          <time
            className="jp-Workspace-conversationUpdated"
            dateTime={conversation.updated}
            title={`Updated ${Time.format(conversation.updated)}`}
          >
            {Time.formatHuman(conversation.updated)}
          </time>
        </button>
      )}
      {!renaming && (
        <>
          <button
            type="button"
            className="jp-Workspace-renameConversation jp-Workspace-iconButton"
            onClick={props.onStartRename}
            aria-label={`Rename “${title}”`}
            title="Rename"
          >
            <editIcon.react tag="span" elementSize="small" />
          </button>
          <button
            type="button"
            className="jp-Workspace-deleteConversation jp-Workspace-iconButton"
            onClick={props.onDelete}
            aria-label={`Delete “${title}”`}
            title="Delete"
          >
            <deleteIcon.react tag="span" elementSize="small" />
          </button>
        </>
      )}
    </li>
  );
}

interface IMessageListProps {
  model: ChatModel;
  rendermime: IRenderMimeRegistry;
  codeActions: ICodeActions;
  openSource: (source: ISource) => void;
}

/** Distance from the bottom (px) within which the list follows new text. */
const STICK_PX = 48;

function MessageList(props: IMessageListProps): JSX.Element {
  const { model, rendermime, codeActions, openSource } = props;
  const list = React.useRef<HTMLDivElement>(null);
  const stick = React.useRef(true);
  const messages = model.messages;
  const stream = model.currentStream;
  const busy = Boolean(stream) || model.sending;
  const last = messages.length > 0 ? messages[messages.length - 1] : null;

  const follow = React.useCallback(() => {
    const node = list.current;
    if (node && stick.current) {
      node.scrollTop = node.scrollHeight;
    }
  }, []);

  // A different conversation starts at its end.
  React.useLayoutEffect(() => {
    stick.current = true;
    follow();
  }, [model.currentId, follow]);

  React.useLayoutEffect(follow);

  const retry = () => void model.retry();
  const canRetry = !busy && model.sidecar.ready;

  return (
    <div
      className="jp-Workspace-chatMessages"
      ref={list}
      role="log"
      aria-label="Messages"
      aria-busy={busy}
      onScroll={() => {
        const node = list.current;
        if (node) {
          stick.current =
            node.scrollHeight - node.scrollTop - node.clientHeight < STICK_PX;
        }
      }}
    >
      {model.loadingMessages && (
        <div className="jp-Workspace-empty">Loading the conversation…</div>
      )}
      {!model.loadingMessages && messages.length === 0 && !stream && (
        <div className="jp-Workspace-chatWelcome">
          Ask about your code. Answers are rendered as Markdown; code blocks get{' '}
          <em>Copy</em> and <em>Insert</em> buttons.
        </div>
      )}
      {messages.map(message => (
        <MessageView
          key={message.id}
          message={message}
          model={model}
          rendermime={rendermime}
          codeActions={codeActions}
          openSource={openSource}
          onRendered={follow}
          retry={
            message === last && message.role === 'assistant' && !stream
              ? { enabled: canRetry, onRetry: retry }
              : null
          }
        />
      ))}
      {stream && (
        <StreamingView
          stream={stream}
          rendermime={rendermime}
          codeActions={codeActions}
          openSource={openSource}
          onRendered={follow}
        />
      )}
      {last && last.role === 'user' && !stream && !model.sending && (
        <div className="jp-Workspace-chatNoAnswer">
          <span>This question has no answer.</span>
          <RetryButton enabled={canRetry} onRetry={retry} />
        </div>
      )}
    </div>
  );
}

function RetryButton(props: {
  enabled: boolean;
  onRetry: () => void;
}): JSX.Element {
  return (
    <button
      type="button"
      className="jp-Workspace-chatRetry jp-Workspace-textButton"
      onClick={props.onRetry}
      disabled={!props.enabled}
      title="Ask the last question again (replaces this answer)"
    >
      Retry
    </button>
  );
}

/** The passages of an answer without repeats, in their order. */
function uniqueSources(
  sources: ReadonlyArray<ISourceRef> | null | undefined
): ISourceRef[] {
  const seen = new Set<string>();
  return (sources ?? []).filter(source => {
    const key = `${source.path}:${source.start_line}:${source.end_line}`;
    if (seen.has(key)) {
      return false;
    }
    seen.add(key);
    return true;
  });
}

/** The citation links of an answer, stable while its sources are. */
function useCitations(
  sources: ReadonlyArray<ISourceRef>,
  open: (source: ISource) => void
): ICitations {
  return React.useMemo(() => ({ sources, open }), [sources, open]);
}

/** An answer's passages as chips: `path:start-end · symbol`, click to open. */
function SourceChips(props: {
  sources: ReadonlyArray<ISourceRef>;
  onOpen: (source: ISource) => void;
}): JSX.Element | null {
  const { sources, onOpen } = props;
  if (sources.length === 0) {
    return null;
  }
  return (
    <div className="jp-Workspace-chatSources" role="group" aria-label="Sources">
      <span className="jp-Workspace-chatSourcesLabel">Sources</span>
      {sources.map(source => {
        const where = formatRange(source);
        return (
          <SourceLink
            key={`${source.path}:${source.cell ?? ''}:${source.start_line}:${source.end_line}`}
            className="jp-Workspace-chatSource"
            source={{
              path: source.path,
              line: source.start_line,
              cell: source.cell
            }}
            title={`Open ${source.path} at line ${source.start_line}${
              source.kind ? ` (${source.kind})` : ''
            }`}
            onOpen={onOpen}
          >
            <span className="jp-Workspace-chatSourceWhere">{where}</span>
            {source.symbol && (
              <span className="jp-Workspace-chatSourceSymbol">
                {' · '}
                {source.symbol}
              </span>
            )}
          </SourceLink>
        );
      })}
    </div>
  );
}

interface IMessageViewProps {
  message: IChatMessage;
  model: ChatModel;
  rendermime: IRenderMimeRegistry;
  codeActions: ICodeActions;
  openSource: (source: ISource) => void;
  onRendered: () => void;
  retry: { enabled: boolean; onRetry: () => void } | null;
}

function MessageView(props: IMessageViewProps): JSX.Element {
  const { message, model, rendermime, codeActions, openSource, onRendered } =
    props;
  const { retry } = props;
  const info = model.infoOf(message);
  const isAnswer = message.role === 'assistant';
  const sources = React.useMemo(
    () => (isAnswer ? uniqueSources(message.sources) : []),
    [isAnswer, message.sources]
  );
  const citations = useCitations(sources, openSource);
  const retrievalOnly = isAnswer && message.mode === 'retrieval-only';
  const retryButton = retry ? (
    <RetryButton enabled={retry.enabled} onRetry={retry.onRetry} />
  ) : null;
  return (
    <article
      className={`jp-Workspace-chatMessage jp-mod-${message.role}`}
      data-role={message.role}
      data-status={message.status}
      data-id={message.id}
      aria-label={isAnswer ? 'Answer' : 'Question'}
    >
      <header className="jp-Workspace-chatMessageHeader">
        <span className="jp-Workspace-chatAuthor">
          {isAnswer ? 'Assistant' : 'You'}
        </span>
        {isAnswer && message.mode === 'grounded' && (
          <span
            className="jp-Workspace-chatGrounded"
            title="Answered from passages of this workspace"
          >
            grounded
          </span>
        )}
        {isAnswer && message.model && (
          <span className="jp-Workspace-chatModel">{message.model}</span>
        )}
        <time
          className="jp-Workspace-chatTime"
          dateTime={message.created}
          title={Time.format(message.created)}
        >
          {Time.formatHuman(message.created)}
        </time>
      </header>
      {retrievalOnly && (
        <div className="jp-Workspace-retrievalOnly" role="note">
          <span className="jp-Workspace-retrievalOnlyLabel">
            Retrieval only — no language model answered
          </span>
          {message.error && (
            <span className="jp-Workspace-retrievalOnlyReason">
              {message.error}
            </span>
          )}
        </div>
      )}
      {message.content && (
        <ChatMarkdown
          rendermime={rendermime}
          source={message.content}
          codeActions={isAnswer ? codeActions : undefined}
          citations={isAnswer ? citations : undefined}
          onRendered={onRendered}
        />
      )}
      {isAnswer && <SourceChips sources={sources} onOpen={openSource} />}
      {message.status === 'partial' && (
        <div className="jp-Workspace-chatStopped" role="note">
          {info.stopped
            ? 'Stopped — partial answer.'
            : 'Partial answer (stopped or cut off).'}
        </div>
      )}
      {message.status === 'error' && (
        <ChatError
          kind={info.kind ?? 'other'}
          error={message.error}
          model={message.model}
          llm={model.sidecar.llm}
          apiBase={model.overrides.apiBase}
        >
          {retryButton}
        </ChatError>
      )}
      {message.status !== 'error' && retryButton && (
        <footer className="jp-Workspace-chatMessageFooter">
          {retryButton}
        </footer>
      )}
    </article>
  );
}

interface IChatErrorProps {
  kind: ChatErrorKind;
  error: string | null;
  model: string | null;
  llm: ILLMConfig | null;
  apiBase: string;
  children?: React.ReactNode;
}

function ChatError(props: IChatErrorProps): JSX.Element {
  const { kind, error, model, llm, apiBase, children } = props;
  return (
    <div className="jp-Workspace-chatError" data-kind={kind} role="alert">
      <div className="jp-Workspace-chatErrorHeadline">
        {errorHeadline(kind, model, llm, apiBase)}
      </div>
      {error && <div className="jp-Workspace-chatErrorDetail">{error}</div>}
      {children && <div className="jp-Workspace-bannerActions">{children}</div>}
    </div>
  );
}

interface IStreamingViewProps {
  stream: IStream;
  rendermime: IRenderMimeRegistry;
  codeActions: ICodeActions;
  openSource: (source: ISource) => void;
  onRendered: () => void;
}

function StreamingView(props: IStreamingViewProps): JSX.Element {
  const { stream, rendermime, codeActions, openSource, onRendered } = props;
  const sources = React.useMemo(
    () => uniqueSources(stream.sources),
    [stream.sources]
  );
  const citations = useCitations(sources, openSource);
  return (
    <article
      className="jp-Workspace-chatMessage jp-mod-assistant jp-mod-streaming"
      data-role="assistant"
      data-status="streaming"
      data-stream={stream.id}
      aria-label="Answer (arriving)"
    >
      <header className="jp-Workspace-chatMessageHeader">
        <span className="jp-Workspace-chatAuthor">Assistant</span>
        <span className="jp-Workspace-chatStreaming" role="status">
          {stream.stopping ? 'Stopping…' : 'Answering…'}
        </span>
      </header>
      {stream.joinedLate && (
        <div className="jp-Workspace-chatLate">
          This answer began before this tab was listening; the full text shows
          when it is complete.
        </div>
      )}
      {stream.text ? (
        <ChatMarkdown
          rendermime={rendermime}
          source={stream.text}
          codeActions={codeActions}
          citations={citations}
          onRendered={onRendered}
        />
      ) : (
        <div className="jp-Workspace-chatThinking" aria-hidden="true">
          <span />
          <span />
          <span />
        </div>
      )}
      <SourceChips sources={sources} onOpen={openSource} />
    </article>
  );
}

interface IComposerProps {
  model: ChatModel;
  sidecar: SidecarModel;
}

/** The input: Enter sends, Shift+Enter is a new line; Stop while answering. */
function Composer(props: IComposerProps): JSX.Element {
  const { model, sidecar } = props;
  useRerenderOn(model.inputChanged);
  useRerenderOn(sidecar.changed);
  const stream = model.currentStream;
  const text = model.input;
  const ready = sidecar.ready;
  const reason = sidecar.unavailableReason;
  const degraded = sidecar.sidecar?.state === 'degraded';

  const send = () => {
    if (!stream) {
      void model.send();
    }
  };

  return (
    <div className="jp-Workspace-chatComposer">
      {model.sendError ? (
        <Banner kind="error" onDismiss={() => model.dismissSendError()}>
          <span className="jp-Workspace-chatSendError">{model.sendError}</span>
        </Banner>
      ) : (
        !ready && (
          <div
            className="jp-Workspace-chatUnavailable"
            data-state={sidecar.sidecar?.state ?? 'unknown'}
            role="status"
            aria-live="polite"
          >
            {reason}
            {degraded && (
              <>
                {' '}
                <button
                  type="button"
                  className="jp-Workspace-textButton jp-Workspace-chatRestart"
                  onClick={() => void sidecar.restart()}
                  disabled={sidecar.restarting}
                >
                  Restart AI sidecar
                </button>
              </>
            )}
          </div>
        )
      )}
      <textarea
        className="jp-Workspace-chatInput"
        value={text}
        placeholder={
          ready
            ? 'Ask a question (Enter sends, Shift+Enter: new line)'
            : 'Type your question; sending waits for the AI sidecar'
        }
        aria-label="Chat message (Enter sends, Shift+Enter inserts a new line)"
        rows={3}
        onChange={event => model.setInput(event.target.value)}
        onKeyDown={event => {
          if (
            event.key === 'Enter' &&
            !event.shiftKey &&
            !event.nativeEvent.isComposing
          ) {
            event.preventDefault();
            send();
          }
        }}
      />
      <div className="jp-Workspace-chatActions">
        <span className="jp-Workspace-chatHint">
          {stream
            ? 'Answering…'
            : model.sending
              ? 'Sending…'
              : 'Enter to send · Shift+Enter for a new line'}
        </span>
        {stream ? (
          <button
            type="button"
            className="jp-Workspace-chatStop jp-Workspace-textButton"
            onClick={() => void model.stop()}
            disabled={stream.stopping}
            title="Stop the answer (what arrived so far is kept)"
          >
            {stream.stopping ? 'Stopping…' : 'Stop'}
          </button>
        ) : (
          <button
            type="button"
            className="jp-Workspace-chatSend jp-Workspace-textButton jp-mod-accept"
            onClick={send}
            disabled={!ready || model.sending || !text.trim()}
            title={ready ? 'Send (Enter)' : reason}
          >
            Send
          </button>
        )}
      </div>
    </div>
  );
}

/** The Chat panel widget for the right sidebar. */
export class ChatPanel extends ReactWidget {
  constructor(private _props: IChatViewProps) {
    super();
    this.id = CHAT_ID;
    this.addClass('jp-Workspace-chat');
    this.title.icon = chatIcon;
    this.title.caption = 'Workspace Chat';
  }

  get model(): ChatModel {
    return this._props.model;
  }

  render(): JSX.Element {
    return <ChatView {...this._props} />;
  }
}
