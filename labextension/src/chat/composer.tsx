/**
 * The chat input: Enter sends, Shift+Enter is a new line; Stop while
 * answering; why sending waits while the AI sidecar is not ready.
 *
 * Typing `@` opens a picker of files, definitions and notes (the lookup
 * route, as the letters come): arrows move, Enter or Tab writes the item's
 * mention (`@path`, `@name`, `@notes/<id>`), which the coordinator's grounding
 * reads to give the answer that file, definition or note; Escape closes it.
 */
import * as React from 'react';

import { Banner } from '../common/banner';
import { useRerenderOn } from '../common/hooks';
import { useTranslation } from '../common/translation';
import { SidecarModel } from '../sidecar/sidecarmodel';
import { ILookupItem, LookupType } from '../symbols/lookupapi';
import {
  LookupList,
  moveActive,
  optionId,
  useLookup
} from '../symbols/typeahead';
import { ChatModel } from './chatmodel';
import { Button } from '@jupyterlab/ui-components';

interface IComposerProps {
  model: ChatModel;
  sidecar: SidecarModel;
}

/** What the `@` picker offers, in the chat's grounding's terms. */
const MENTION_TYPES: ReadonlyArray<LookupType> = ['symbol', 'file', 'note'];

/** A mention being typed: `@` at the start or after a space or bracket. */
const TYPED_MENTION = /(?:^|[\s([{'"])@([\w./-]{0,200})$/;

let pickerCount = 0;

/** The `@mention` typed just before the caret: where its `@` is, its letters. */
export function mentionAt(
  text: string,
  caret: number
): { start: number; query: string } | null {
  const match = TYPED_MENTION.exec(text.slice(0, caret));
  if (!match) {
    return null;
  }
  return { start: caret - match[1].length - 1, query: match[1] };
}

/** The input: Enter sends, Shift+Enter is a new line; Stop while answering. */
export function Composer(props: IComposerProps): JSX.Element {
  const { model, sidecar } = props;
  const trans = useTranslation();
  useRerenderOn(model.inputChanged);
  useRerenderOn(sidecar.changed);
  const stream = model.currentStream;
  const text = model.input;
  const input = React.useRef<HTMLTextAreaElement>(null);
  const [listId] = React.useState(
    () => `jp-Workspace-mentions-${++pickerCount}`
  );
  const [caret, setCaret] = React.useState(0);
  const [dismissedAt, setDismissedAt] = React.useState<number | null>(null);
  const [active, setActive] = React.useState(0);
  const placeCaret = React.useRef<number | null>(null);
  const mention = mentionAt(text, Math.min(caret, text.length));
  const picking = mention !== null && mention.start !== dismissedAt;
  const found = useLookup(picking ? mention.query : null, MENTION_TYPES);
  const items = picking ? found.items.filter(item => item.ref) : [];
  const answered = picking && found.query === mention.query;
  const listShown = items.length > 0;

  React.useEffect(() => setActive(0), [found.items]);
  React.useLayoutEffect(() => {
    const at = placeCaret.current;
    if (at !== null && input.current) {
      placeCaret.current = null;
      input.current.setSelectionRange(at, at);
    }
  });

  const followCaret = () => {
    const node = input.current;
    if (node) {
      setCaret(node.selectionStart ?? node.value.length);
    }
  };

  const choose = (item: ILookupItem) => {
    if (!mention || !item.ref) {
      return;
    }
    const written = `${item.ref} `;
    const end = Math.min(caret, text.length);
    model.setInput(text.slice(0, mention.start) + written + text.slice(end));
    const at = mention.start + written.length;
    placeCaret.current = at;
    setCaret(at);
  };

  /** The picker's keys; true when it took the key. */
  const pickerKey = (event: React.KeyboardEvent): boolean => {
    if (!picking || !mention) {
      return false;
    }
    if (event.key === 'Escape') {
      event.preventDefault();
      event.stopPropagation();
      setDismissedAt(mention.start);
      return true;
    }
    if (!listShown) {
      return false;
    }
    if (['ArrowDown', 'ArrowUp'].includes(event.key)) {
      event.preventDefault();
      setActive(moveActive(active, event.key, items.length));
      return true;
    }
    if (
      (event.key === 'Enter' || event.key === 'Tab') &&
      !event.shiftKey &&
      !event.nativeEvent.isComposing
    ) {
      event.preventDefault();
      choose(items[Math.min(active, items.length - 1)]);
      return true;
    }
    return false;
  };
  const ready = sidecar.ready;
  const reason = sidecar.unavailableReason(trans);
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
                <Button
                  type="button"
                  className="jp-Workspace-textButton jp-Workspace-chatRestart"
                  onClick={() => void sidecar.restart()}
                  disabled={sidecar.restarting}
                >
                  {trans.__('Restart AI sidecar')}
                </Button>
              </>
            )}
          </div>
        )
      )}
      {picking && (listShown || (answered && mention.query !== '')) && (
        <div className="jp-Workspace-mentionPicker">
          <LookupList
            id={listId}
            query={found.query}
            items={items}
            active={active}
            label={trans.__('Files, definitions and notes to mention')}
            empty={
              found.error ??
              trans.__(
                'No file, definition or note matches “%1”',
                mention.query
              )
            }
            onChoose={choose}
            onHover={setActive}
          />
        </div>
      )}
      <textarea
        ref={input}
        className="jp-Workspace-chatInput"
        role="combobox"
        aria-autocomplete="list"
        aria-expanded={listShown}
        aria-controls={listShown ? listId : undefined}
        aria-activedescendant={
          listShown
            ? optionId(listId, Math.min(active, items.length - 1))
            : undefined
        }
        value={text}
        placeholder={
          ready
            ? trans.__('Ask a question (Enter sends, Shift+Enter: new line)')
            : trans.__('Type your question; sending waits for the AI sidecar')
        }
        aria-label={trans.__(
          'Chat message (Enter sends, Shift+Enter inserts a new line)'
        )}
        rows={3}
        onChange={event => {
          const value = event.target.value;
          const at = event.target.selectionStart ?? value.length;
          model.setInput(value);
          setCaret(at);
          if (!mentionAt(value, at)) {
            setDismissedAt(null); // Escape closed that mention, not the next
          }
        }}
        onSelect={followCaret}
        onBlur={() => setDismissedAt(mention?.start ?? null)}
        onFocus={() => setDismissedAt(null)}
        onKeyDown={event => {
          if (pickerKey(event)) {
            return;
          }
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
            ? trans.__('Answering…')
            : model.sending
              ? trans.__('Sending…')
              : trans.__(
                  'Enter to send · Shift+Enter for a new line · @ for a file, definition or note'
                )}
        </span>
        {stream ? (
          <Button
            type="button"
            className="jp-Workspace-chatStop jp-Workspace-textButton"
            onClick={() => void model.stop()}
            disabled={stream.stopping}
            title={trans.__('Stop the answer (what arrived so far is kept)')}
          >
            {stream.stopping ? trans.__('Stopping…') : trans.__('Stop')}
          </Button>
        ) : (
          <Button
            type="button"
            className="jp-Workspace-chatSend jp-Workspace-textButton jp-mod-accept"
            onClick={send}
            disabled={!ready || model.sending || !text.trim()}
            title={ready ? trans.__('Send (Enter)') : reason}
          >
            {trans.__('Send')}
          </Button>
        )}
      </div>
    </div>
  );
}
