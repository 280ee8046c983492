/**
 * The AI's state in the status bar (the sidecar, the index, whether the LLM
 * answers), and a notification while the sidecar is degraded.
 */
import { Notification, ReactWidget } from '@jupyterlab/apputils';
import { TranslationBundle } from '@jupyterlab/translation';
import { IDisposable } from '@lumino/disposable';
import * as React from 'react';

import { ISidecarState } from '../chat/chatapi';
import { useRerenderOn } from '../common/hooks';
import { SidecarModel, llmAddress, modelName } from './sidecarmodel';

/**
 * True when the sidecar runs but the LLM does not answer: chat and summaries
 * cannot work, search can.
 */
export function llmMissing(model: SidecarModel): boolean {
  const state = model.llm?.state;
  return (
    model.sidecar?.state === 'ready' &&
    (state === 'unreachable' || state === 'no_model')
  );
}

/** The status bar text while the sidecar runs: the LLM, then the index. */
function readyLabel(model: SidecarModel, trans: TranslationBundle): string {
  const llm = model.llm;
  const searchable = model.index?.state !== 'off';
  let label: string;
  if (llm?.state === 'unreachable') {
    label = searchable
      ? trans.__('AI: search only — no LLM at %1', llmAddress(llm))
      : trans.__('AI: no LLM at %1', llmAddress(llm));
  } else if (llm?.state === 'no_model') {
    label = searchable
      ? trans.__('AI: search only — model %1 missing', modelName(llm.model))
      : trans.__('AI: model %1 missing', modelName(llm.model));
  } else if (llm?.state === 'checking') {
    label = trans.__('AI: checking the LLM…');
  } else {
    label = trans.__('AI: ready');
  }
  const index = model.index;
  switch (index?.state) {
    case 'starting':
    case 'waiting':
      return trans.__('%1 · index starting', label);
    case 'scanning':
      return trans.__('%1 · scanning files', label);
    case 'indexing':
      return trans.__(
        '%1 · indexing %2/%3',
        label,
        index.files_indexed,
        index.files_total
      );
    case 'failed':
      return trans.__('%1 · index failed', label);
    default:
      return label;
  }
}

/** The status bar text for a state. */
export function statusLabel(
  model: SidecarModel,
  trans: TranslationBundle
): string {
  const sidecar = model.sidecar;
  if (model.restarting) {
    return trans.__('AI: restarting…');
  }
  if (!sidecar) {
    return model.requestError ? trans.__('AI: unknown') : trans.__('AI: …');
  }
  switch (sidecar.state) {
    case 'ready':
      return readyLabel(model, trans);
    case 'starting':
      return trans.__('AI: starting…');
    case 'restarting': {
      const wait = model.retryIn;
      return wait === null || wait < 0.5
        ? trans.__('AI: restarting…')
        : trans.__('AI: restarting in %1 s', Math.round(wait));
    }
    case 'degraded':
      return trans.__('AI: degraded');
    case 'stopped':
      return trans.__('AI: off');
    default:
      return trans.__('AI: %1', String(sidecar.state));
  }
}

function statusTooltip(model: SidecarModel, trans: TranslationBundle): string {
  const sidecar = model.sidecar;
  const lines = [trans.__('AI sidecar: %1', sidecar?.state ?? 'unknown')];
  const llm = model.llm;
  if (llm) {
    lines.push(trans.__('Model: %1', llm.model));
    lines.push(
      trans.__(
        'LLM server: %1',
        llm.api_base || trans.__("the provider's default")
      )
    );
    lines.push(
      trans.__('LLM: %1', model.llmUnavailableReason(trans) || llm.state)
    );
  }
  if (model.index) {
    lines.push(trans.__('Index: %1', model.index.state));
  }
  if (sidecar && sidecar.restarts > 0) {
    lines.push(trans.__('Restarts: %1', sidecar.restarts));
  }
  if (sidecar?.error) {
    lines.push(trans.__('Error: %1', sidecar.error));
  }
  if (model.requestError) {
    lines.push(trans.__('Status request failed: %1', model.requestError));
  }
  lines.push(
    sidecar?.state === 'degraded'
      ? trans.__('Click to restart the AI sidecar.')
      : llmMissing(model)
        ? trans.__(
            'Click to open Settings → Workspace (chat model, LLM server).'
          )
        : trans.__('Click to open the Workspace Chat.')
  );
  return lines.join('\n');
}

/** What a click on the status item can open. */
export interface ISidecarStatusActions {
  openChat: () => void;
  /** Settings → Workspace, where the chat model and LLM server are set. */
  openSettings: () => void;
}

interface ISidecarStatusProps {
  model: SidecarModel;
  actions: ISidecarStatusActions;
  trans: TranslationBundle;
}

function SidecarStatus(props: ISidecarStatusProps): JSX.Element {
  const { model, actions, trans } = props;
  useRerenderOn(model.changed);
  const state = model.sidecar?.state ?? 'unknown';
  const missing = llmMissing(model);
  const [, setTick] = React.useState(0);

  // Count the seconds down while a restart is scheduled.
  React.useEffect(() => {
    if (state !== 'restarting') {
      return;
    }
    const timer = window.setInterval(() => setTick(t => t + 1), 500);
    return () => window.clearInterval(timer);
  }, [state]);

  const activate = () => {
    if (state === 'degraded') {
      void model.restart();
    } else if (missing) {
      actions.openSettings();
    } else {
      actions.openChat();
    }
  };

  return (
    <div
      className="jp-Workspace-sidecarStatus"
      data-state={missing ? 'search-only' : state}
      role="button"
      tabIndex={0}
      title={statusTooltip(model, trans)}
      aria-label={`${statusLabel(model, trans)}. ${
        state === 'degraded'
          ? trans.__('Restart the AI sidecar')
          : missing
            ? trans.__('Open the Workspace settings')
            : trans.__('Open the chat')
      }`}
      onClick={activate}
      onKeyDown={event => {
        if (event.key === 'Enter' || event.key === ' ') {
          event.preventDefault();
          activate();
        }
      }}
    >
      <span className="jp-Workspace-sidecarDot" aria-hidden="true" />
      <span className="jp-Workspace-sidecarLabel">
        {statusLabel(model, trans)}
      </span>
    </div>
  );
}

/** The status bar item. */
export function createSidecarStatusItem(
  model: SidecarModel,
  actions: ISidecarStatusActions,
  trans: TranslationBundle
): ReactWidget {
  const widget = ReactWidget.create(
    <SidecarStatus model={model} actions={actions} trans={trans} />
  );
  widget.addClass('jp-Workspace-sidecarStatusItem');
  return widget;
}

/** The longest reason put into a notification (JupyterLab cuts at 140). */
const NOTIFICATION_REASON_CHARS = 90;

function shorten(text: string, length: number): string {
  return text.length <= length ? text : `${text.slice(0, length - 1)}…`;
}

/**
 * One error notification while the sidecar is degraded, with a Restart
 * action; turned into a short success message when it is ready again.
 *
 * Repeated `degraded` events update the same notification; one the user has
 * dismissed is not shown again until the sidecar has left degraded mode.
 */
export class SidecarNotifier implements IDisposable {
  constructor(
    private _model: SidecarModel,
    private _trans: TranslationBundle
  ) {
    _model.stateChanged.connect(this._onState, this);
    if (_model.sidecar) {
      this._onState(_model, _model.sidecar);
    }
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    this._model.stateChanged.disconnect(this._onState, this);
  }

  private _onState(_: SidecarModel, sidecar: ISidecarState): void {
    const previous = this._previous;
    this._previous = sidecar.state;
    const id = this._id;
    if (sidecar.state === 'degraded') {
      const trans = this._trans;
      const message = trans.__(
        'AI sidecar down, chat unavailable: %1',
        shorten(
          sidecar.error || trans.__('it failed to start'),
          NOTIFICATION_REASON_CHARS
        )
      );
      const actions: Notification.IAction[] = [
        {
          label: trans.__('Restart'),
          caption: trans.__('Restart the AI sidecar'),
          displayType: 'accent',
          callback: () => void this._model.restart()
        }
      ];
      if (id && Notification.manager.has(id)) {
        Notification.update({ id, message, type: 'error', actions });
      } else if (previous !== 'degraded') {
        this._id = Notification.error(message, { autoClose: false, actions });
      }
      return;
    }
    if (sidecar.state === 'ready' && id) {
      this._id = null;
      if (Notification.manager.has(id)) {
        Notification.update({
          id,
          message: this._trans.__('AI sidecar is running again.'),
          type: 'success',
          actions: [],
          autoClose: 3000
        });
      }
    }
  }

  private _id: string | null = null;
  private _previous: string | null = null;
  private _isDisposed = false;
}
