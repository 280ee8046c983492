/**
 * The chat input: Enter sends, Shift+Enter is a new line; Stop while
 * answering; why sending waits while the AI sidecar is not ready.
 */
import * as React from 'react';

import { Banner } from '../common/banner';
import { useRerenderOn } from '../common/hooks';
import { useTranslation } from '../common/translation';
import { SidecarModel } from '../sidecar/sidecarmodel';
import { ChatModel } from './chatmodel';
import { Button } from '@jupyterlab/ui-components';

interface IComposerProps {
  model: ChatModel;
  sidecar: SidecarModel;
}

/** The input: Enter sends, Shift+Enter is a new line; Stop while answering. */
export function Composer(props: IComposerProps): JSX.Element {
  const { model, sidecar } = props;
  const trans = useTranslation();
  useRerenderOn(model.inputChanged);
  useRerenderOn(sidecar.changed);
  const stream = model.currentStream;
  const text = model.input;
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
      <textarea
        className="jp-Workspace-chatInput"
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
            ? trans.__('Answering…')
            : model.sending
              ? trans.__('Sending…')
              : trans.__('Enter to send · Shift+Enter for a new line')}
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
