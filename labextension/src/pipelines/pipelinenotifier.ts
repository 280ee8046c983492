/**
 * Notifications when a pipeline's run ends: an error with "Open run" when it
 * failed, timed out or could not start; a short success when it passes
 * after a failure.
 */
import { Notification } from '@jupyterlab/apputils';
import { TranslationBundle } from '@jupyterlab/translation';

import { FAILED_STATUSES, IRun, listRuns } from './pipelinesapi';
import { PipelinesModel } from './pipelinesmodel';
import { failureCount } from './runstatus';

/** How long the "passes again" message stays. */
const SUCCESS_AUTO_CLOSE_MS = 4000;

/** The longest detail put into a notification (JupyterLab cuts at 140). */
const DETAIL_CHARS = 80;

/** What a failed run's notification says. */
export function failureMessage(run: IRun, trans: TranslationBundle): string {
  const name = run.pipeline;
  switch (run.status) {
    case 'timeout':
      return run.duration !== null
        ? trans.__(
            'Pipeline %1 timed out after %2 s',
            name,
            Math.round(run.duration)
          )
        : trans.__('Pipeline %1 timed out', name);
    case 'error':
      return trans.__(
        'Pipeline %1 could not run: %2',
        name,
        shorten(run.error || trans.__('unknown error'))
      );
    default: {
      const [only] = run.failures;
      if (run.failures.length === 1 && only.kind === 'exit') {
        return trans.__('Pipeline %1 failed: %2', name, only.message);
      }
      return trans.__('Pipeline %1 failed: %2', name, failureCount(run, trans));
    }
  }
}

function shorten(text: string): string {
  return text.length <= DETAIL_CHARS
    ? text
    : `${text.slice(0, DETAIL_CHARS - 1)}…`;
}

/**
 * One notification per pipeline, updated in place by its next run, so a
 * pipeline re-run on every save does not stack them up. The model fires
 * `runFinished` once per run, so no run is announced twice. Lives as long
 * as the page.
 */
export class PipelineNotifier {
  constructor(
    model: PipelinesModel,
    private _openRun: (id: number) => Promise<void>,
    private _trans: TranslationBundle
  ) {
    model.runFinished.connect(this._onFinished, this);
  }

  private _onFinished(_: PipelinesModel, run: IRun): void {
    if (FAILED_STATUSES.includes(run.status)) {
      const trans = this._trans;
      this._show(run.pipeline, failureMessage(run, trans), 'error', [
        {
          label: trans.__('Open run'),
          caption: trans.__('Open the output of run %1', run.id),
          displayType: 'accent',
          callback: () => void this._openRun(run.id)
        }
      ]);
    } else if (run.status === 'passed') {
      void this._announcePass(run);
    }
  }

  /** A success message only when the run before this one had failed. */
  private async _announcePass(run: IRun): Promise<void> {
    let previous: IRun | undefined;
    try {
      const runs = await listRuns(run.pipeline, 5);
      previous = runs.find(other => other.id < run.id);
    } catch {
      return; // not worth an error of its own
    }
    if (previous && FAILED_STATUSES.includes(previous.status)) {
      this._show(
        run.pipeline,
        this._trans.__('Pipeline %1 passes again', run.pipeline),
        'success',
        [],
        SUCCESS_AUTO_CLOSE_MS
      );
    }
  }

  private _show(
    pipeline: string,
    message: string,
    type: 'error' | 'success',
    actions: Notification.IAction[],
    autoClose: number | false = false
  ): void {
    const id = this._ids.get(pipeline);
    if (id && Notification.manager.has(id)) {
      Notification.update({ id, message, type, actions, autoClose });
    } else {
      this._ids.set(
        pipeline,
        Notification.emit(message, type, { actions, autoClose })
      );
    }
  }

  private _ids = new Map<string, string>();
}
