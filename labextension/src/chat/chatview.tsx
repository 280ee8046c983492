/**
 * The Chat panel (right sidebar): conversations, the open conversation's
 * messages with the answer streaming in, and the input.
 */
import { ReactWidget } from '@jupyterlab/apputils';
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { TranslationBundle } from '@jupyterlab/translation';
import {
  Button,
  addIcon,
  caretDownIcon,
  caretRightIcon
} from '@jupyterlab/ui-components';
import * as React from 'react';

import { ISource } from '../common/api';
import { Banner, ErrorBanner } from '../common/banner';
import { ConnectionStatus } from '../common/connectionstatus';
import { WorkspaceEvents } from '../common/events';
import { useRerenderOn } from '../common/hooks';
import { chatIcon } from '../common/icons';
import { errorMessage } from '../common/request';
import { translated, useTranslation } from '../common/translation';
import { ICodeActions } from './chatmarkdown';
import { ChatModel } from './chatmodel';
import { Composer } from './composer';
import { ConversationList } from './conversationlist';
import { LLMGuide } from './llmguide';
import { MessageList } from './messagelist';

export const CHAT_ID = 'jupyter-workspace:chat';

export interface IChatViewProps {
  model: ChatModel;
  trans: TranslationBundle;
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
  const trans = useTranslation();
  useRerenderOn(model.changed);
  const [listOpen, setListOpen] = React.useState(true);
  const conversations = model.conversations;

  return (
    <div className="jp-Workspace-chatRoot">
      <div className="jp-Workspace-header jp-Workspace-chatHeader">
        <div className="jp-Workspace-chatTitleRow">
          <h2 className="jp-Workspace-heading">{trans.__('Workspace Chat')}</h2>
          <Button
            type="button"
            className="jp-Workspace-newConversation jp-Workspace-iconButton"
            onClick={() => {
              model.newChat();
              focusChatInput();
            }}
            aria-label={trans.__('New chat')}
            title={trans.__('New chat')}
          >
            <addIcon.react tag="span" />
          </Button>
        </div>
        <ConnectionStatus events={events} />
      </div>
      <section
        className="jp-Workspace-conversations"
        aria-label={trans.__('Conversations')}
      >
        <Button
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
          <span>{trans.__('Conversations (%1)', conversations.length)}</span>
        </Button>
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
      <LLMGuide sidecar={model.sidecar} />
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

/** The Chat panel widget for the right sidebar. */
export class ChatPanel extends ReactWidget {
  constructor(private _props: IChatViewProps) {
    super();
    this.id = CHAT_ID;
    this.addClass('jp-Workspace-chat');
    this.title.icon = chatIcon;
    this.title.caption = _props.trans.__('Workspace Chat');
  }

  get model(): ChatModel {
    return this._props.model;
  }

  render(): JSX.Element {
    return translated(this._props.trans, <ChatView {...this._props} />);
  }
}
