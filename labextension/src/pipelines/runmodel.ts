/**
 * One run as its output view shows it: the record, its output (followed
 * while it runs), and the LLM summary of why it failed.
 */
import { TranslationBundle } from '@jupyterlab/translation';

import { WorkspaceEvent, WorkspaceEvents } from '../common/events';
import { PanelModel } from '../common/panelmodel';
import { llmFailure } from '../common/request';
import {
  IRunDetails,
  getRun,
  getRunOutput,
  summarizeRun
} from './pipelinesapi';

/** The output kept, as on the server: the last 256 KiB. */
const TAIL_CHARS = 256 * 1024;

/** How often a running run's new output is fetched. */
const FOLLOW_INTERVAL_MS = 1000;

export class RunModel extends PanelModel {
  constructor(options: RunModel.IOptions) {
    super();
    this.id = options.id;
    this._events = options.events;
    this._trans = options.trans;
    this._events.received.connect(this._onEvent, this);
    this._events.connected.connect(() => void this.refresh(), this);
  }

  readonly id: number;

  /** `null` until the first answer. */
  get run(): IRunDetails | null {
    return this._run;
  }

  /** The output with its escapes (ANSI colours), as the terminal had it. */
  get output(): string {
    return this._output;
  }

  /** Whether older output was dropped (only the last 256 KiB is kept). */
  get truncated(): boolean {
    return this._truncated;
  }

  get summarizing(): boolean {
    return this._summarizing;
  }

  /** Why the last summary request failed (the 503 / 502 reason), until dismissed. */
  get summaryError(): string {
    return this._summaryError;
  }

  async refresh(): Promise<void> {
    window.clearTimeout(this._followTimer);
    const generation = ++this._generation;
    try {
      const run = await getRun(this.id);
      if (generation !== this._generation || this._isDisposed) {
        return;
      }
      this._run = run;
      this._output = run.output;
      this._truncated = run.output_truncated;
      this._offset = run.output_bytes;
      this._emit();
      if (run.status === 'running') {
        this._scheduleFollow();
      }
    } catch (error) {
      if (generation === this._generation) {
        this._fail(error);
      }
    }
  }

  /** Ask the LLM for the likely cause; the run's `summary` shows it. */
  async summarize(): Promise<void> {
    if (this._summarizing) {
      return;
    }
    this._summarizing = true;
    this._summaryError = '';
    this._emit();
    try {
      this._merge(await summarizeRun(this.id));
    } catch (error) {
      this._summaryError = llmFailure(
        error,
        this._trans.__('Summarizing the run failed'),
        this._trans
      );
    }
    this._summarizing = false;
    this._emit();
  }

  dismissSummaryError(): void {
    this._summaryError = '';
    this._emit();
  }

  dispose(): void {
    window.clearTimeout(this._followTimer);
    super.dispose();
  }

  private _scheduleFollow(): void {
    window.clearTimeout(this._followTimer);
    const generation = this._generation;
    this._followTimer = window.setTimeout(async () => {
      try {
        const chunk = await getRunOutput(this.id, this._offset);
        if (generation !== this._generation || this._isDisposed) {
          return;
        }
        this._output = (this._output + chunk.text).slice(-TAIL_CHARS);
        this._truncated = this._truncated || chunk.gap;
        this._offset = chunk.next;
        this._emit();
        if (chunk.done) {
          // Ended: the record has the status, exit code and failures.
          void this.refresh();
        } else {
          this._scheduleFollow();
        }
      } catch {
        // A network hiccup: the next (re)connection refreshes the whole run.
      }
    }, FOLLOW_INTERVAL_MS);
  }

  private _onEvent(_: WorkspaceEvents, event: WorkspaceEvent): void {
    if (event.type !== 'pipeline.run' || event.run.id !== this.id) {
      return;
    }
    if (this._run?.status === 'running' && event.run.status !== 'running') {
      void this.refresh();
    } else {
      this._merge(event.run);
    }
  }

  /** A newer record of the run (no output in it): keep the output shown. */
  private _merge(run: Omit<IRunDetails, 'output' | 'output_truncated'>): void {
    if (this._run && !this._isDisposed) {
      this._run = { ...this._run, ...run };
      this._emit();
    }
  }

  private _events: WorkspaceEvents;
  private _trans: TranslationBundle;
  private _run: IRunDetails | null = null;
  private _output = '';
  private _truncated = false;
  private _offset = 0;
  private _generation = 0;
  private _followTimer: number | undefined = undefined;
  private _summarizing = false;
  private _summaryError = '';
}

export namespace RunModel {
  export interface IOptions {
    id: number;
    events: WorkspaceEvents;
    trans: TranslationBundle;
  }
}
