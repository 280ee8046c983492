/**
 * The open conversation's messages, the answer streaming in, and Retry; the
 * list follows new text while scrolled to its end.
 */
import { Time } from '@jupyterlab/coreutils';
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import * as React from 'react';

import { ISource } from '../common/api';
import { OpenSettingsButton } from '../common/settingslink';
import { useTranslation } from '../common/translation';
import { IChatMessage } from './chatapi';
import { ChatError } from './chaterror';
import { ChatMarkdown, ICodeActions } from './chatmarkdown';
import { ChatModel } from './chatmodel';
import { SourceChips, uniqueSources, useCitations } from './chatsources';
import { IStream } from './chatstreams';
import { Button } from '@jupyterlab/ui-components';

interface IMessageListProps {
  model: ChatModel;
  rendermime: IRenderMimeRegistry;
  codeActions: ICodeActions;
  openSource: (source: ISource) => void;
}

/** Distance from the bottom (px) within which the list follows new text. */
const STICK_PX = 48;

export function MessageList(props: IMessageListProps): JSX.Element {
  const { model, rendermime, codeActions, openSource } = props;
  const trans = useTranslation();
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
      aria-label={trans.__('Messages')}
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
        <div className="jp-Workspace-empty">
          {trans.__('Loading the conversation…')}
        </div>
      )}
      {!model.loadingMessages && messages.length === 0 && !stream && (
        <div className="jp-Workspace-chatWelcome">
          {trans.__(
            'Ask about your code. Answers are rendered as Markdown; code blocks get'
          )}{' '}
          <em>{trans.__('Copy')}</em> {trans.__('and')}{' '}
          <em>{trans.__('Insert')}</em> {trans.__('buttons.')}
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
          <span>{trans.__('This question has no answer.')}</span>
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
  const trans = useTranslation();
  return (
    <Button
      type="button"
      className="jp-Workspace-chatRetry jp-Workspace-textButton"
      onClick={props.onRetry}
      disabled={!props.enabled}
      title={trans.__('Ask the last question again (replaces this answer)')}
    >
      {trans.__('Retry')}
    </Button>
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
  const trans = useTranslation();
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
      aria-label={isAnswer ? trans.__('Answer') : trans.__('Question')}
    >
      <header className="jp-Workspace-chatMessageHeader">
        <span
          className="jp-Workspace-chatAuthor"
          title={
            retrievalOnly
              ? trans.__(
                  'No language model answered: these are the passages of the workspace that best match the question'
                )
              : undefined
          }
        >
          {retrievalOnly
            ? trans.__('Retrieval only')
            : isAnswer
              ? trans.__('Assistant')
              : trans.__('You')}
        </span>
        {isAnswer && message.mode === 'grounded' && (
          <span
            className="jp-Workspace-chatGrounded"
            title={trans.__('Answered from passages of this workspace')}
          >
            {trans.__('grounded')}
          </span>
        )}
        {isAnswer && message.model && !retrievalOnly && (
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
          <span className="jp-Workspace-retrievalOnlyReason">
            {message.error || trans.__('No language model answered')}
          </span>
          <OpenSettingsButton />
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
      {/* A retrieval-only answer's text lists its passages, each cited once. */}
      {isAnswer && !retrievalOnly && (
        <SourceChips sources={sources} onOpen={openSource} />
      )}
      {message.status === 'partial' && (
        <div className="jp-Workspace-chatStopped" role="note">
          {info.stopped
            ? trans.__('Stopped — partial answer.')
            : trans.__('Partial answer (stopped or cut off).')}
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

interface IStreamingViewProps {
  stream: IStream;
  rendermime: IRenderMimeRegistry;
  codeActions: ICodeActions;
  openSource: (source: ISource) => void;
  onRendered: () => void;
}

function StreamingView(props: IStreamingViewProps): JSX.Element {
  const { stream, rendermime, codeActions, openSource, onRendered } = props;
  const trans = useTranslation();
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
      aria-label={trans.__('Answer (arriving)')}
    >
      <header className="jp-Workspace-chatMessageHeader">
        <span className="jp-Workspace-chatAuthor">{trans.__('Assistant')}</span>
        <span className="jp-Workspace-chatStreaming" role="status">
          {stream.stopping ? trans.__('Stopping…') : trans.__('Answering…')}
        </span>
      </header>
      {stream.joinedLate && (
        <div className="jp-Workspace-chatLate">
          {trans.__(
            'This answer began before this tab was listening; the full text shows when it is complete.'
          )}
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
