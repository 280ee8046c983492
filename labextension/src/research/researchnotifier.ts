/**
 * A notification when a research job ends: done, with "Open note"; failed,
 * with its error; cancelled, briefly.
 */
import { Notification } from '@jupyterlab/apputils';
import { TranslationBundle } from '@jupyterlab/translation';

import { IResearchJob } from './researchapi';
import { ResearchModel } from './researchmodel';

/** How long "done" and "cancelled" stay. */
const AUTO_CLOSE_MS = 8000;

/** The longest part of a question or error put into a notification (JupyterLab cuts at 140). */
const DETAIL_CHARS = 60;

function shorten(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length <= DETAIL_CHARS
    ? line
    : `${line.slice(0, DETAIL_CHARS - 1)}…`;
}

/**
 * One notification per job, updated in place by its next run. The model
 * fires `jobFinished` once per run, so no run is announced twice. Lives as
 * long as the page.
 */
export class ResearchNotifier {
  constructor(
    model: ResearchModel,
    private _openNote: (noteId: number) => Promise<void>,
    private _showPanel: () => void,
    private _trans: TranslationBundle
  ) {
    model.jobFinished.connect(this._onFinished, this);
  }

  private _onFinished(_: ResearchModel, job: IResearchJob): void {
    const trans = this._trans;
    const question = shorten(job.question);
    const noteId = job.note_id;
    if (job.status === 'done') {
      const actions: Notification.IAction[] = [];
      if (noteId !== null) {
        actions.push({
          label: trans.__('Open note'),
          caption: trans.__('Open the report in the Notes panel'),
          displayType: 'accent',
          callback: () => void this._openNote(noteId)
        });
      }
      this._show(
        job.id,
        job.mode === 'retrieval'
          ? trans.__('Research done (retrieval only): %1', question)
          : trans.__('Research done: %1', question),
        'success',
        actions,
        AUTO_CLOSE_MS
      );
    } else if (job.status === 'failed') {
      this._show(
        job.id,
        trans.__(
          'Research failed: %1',
          shorten(job.error || trans.__('unknown error'))
        ),
        'error',
        [
          {
            label: trans.__('Show'),
            caption: trans.__('Show the job in the Research panel'),
            callback: () => this._showPanel()
          }
        ],
        false
      );
    } else if (job.status === 'cancelled') {
      this._show(
        job.id,
        trans.__('Research cancelled: %1', question),
        'info',
        [],
        AUTO_CLOSE_MS
      );
    }
  }

  private _show(
    jobId: number,
    message: string,
    type: 'error' | 'success' | 'info',
    actions: Notification.IAction[],
    autoClose: number | false
  ): void {
    const id = this._ids.get(jobId);
    if (id && Notification.manager.has(id)) {
      Notification.update({ id, message, type, actions, autoClose });
    } else {
      this._ids.set(
        jobId,
        Notification.emit(message, type, { actions, autoClose })
      );
    }
  }

  private _ids = new Map<number, string>();
}
