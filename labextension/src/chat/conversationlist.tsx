/**
 * The Chat panel's conversation list: open, rename and delete conversations.
 */
import { Dialog, showDialog } from '@jupyterlab/apputils';
import { Time } from '@jupyterlab/coreutils';
import { TranslationBundle } from '@jupyterlab/translation';
import { Button, deleteIcon, editIcon } from '@jupyterlab/ui-components';
import * as React from 'react';

import { useClock } from '../common/hooks';
import { useTranslation } from '../common/translation';
import { IConversation } from './chatapi';
import { ChatModel } from './chatmodel';

/** Ask before deleting a conversation; resolves to whether the user agreed. */
async function confirmDelete(
  title: string,
  trans: TranslationBundle
): Promise<boolean> {
  const result = await showDialog({
    title: trans.__('Delete conversation?'),
    body: trans.__(
      'Delete “%1” and all its messages? This cannot be undone.',
      title || trans.__('New chat')
    ),
    buttons: [
      Dialog.cancelButton(),
      Dialog.warnButton({ label: trans.__('Delete') })
    ]
  });
  return result.button.accept;
}

interface IConversationListProps {
  model: ChatModel;
  conversations: ReadonlyArray<IConversation>;
  currentId: number | null;
}

export function ConversationList(props: IConversationListProps): JSX.Element {
  const { model, conversations, currentId } = props;
  const trans = useTranslation();
  useClock();
  const [renaming, setRenaming] = React.useState<number | null>(null);

  const onDelete = async (conversation: IConversation) => {
    if (await confirmDelete(conversation.title, trans)) {
      await model.remove(conversation.id);
    }
  };

  return (
    <ul
      className="jp-Workspace-conversationList"
      aria-label={trans.__('Conversations')}
    >
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
          {trans.__('No conversations yet. Ask a question below.')}
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
  const trans = useTranslation();
  const title = conversation.title || trans.__('New chat');
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
          aria-label={trans.__('Conversation title')}
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
        <Button
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
              aria-label={trans.__('answering')}
              title={trans.__('Answering…')}
            />
          )}
          <time
            className="jp-Workspace-conversationUpdated"
            dateTime={conversation.updated}
            title={trans.__('Updated %1', Time.format(conversation.updated))}
          >
            {Time.formatHuman(conversation.updated)}
          </time>
        </Button>
      )}
      {!renaming && (
        <>
          <Button
            type="button"
            className="jp-Workspace-renameConversation jp-Workspace-iconButton"
            onClick={props.onStartRename}
            aria-label={trans.__('Rename “%1”', title)}
            title={trans.__('Rename')}
          >
            <editIcon.react tag="span" elementSize="small" />
          </Button>
          <Button
            type="button"
            className="jp-Workspace-deleteConversation jp-Workspace-iconButton"
            onClick={props.onDelete}
            aria-label={trans.__('Delete “%1”', title)}
            title={trans.__('Delete')}
          >
            <deleteIcon.react tag="span" elementSize="small" />
          </Button>
        </>
      )}
    </li>
  );
}
