/**
 * The state of the Pipelines panel: the pipelines of `workspace.toml` with
 * their last runs, the run histories the user opened, whether the config is
 * trusted, kept in step with `pipeline.run` and `pipelines.changed` events.
 */
import { ISignal, Signal } from '@lumino/signaling';

import { WorkspaceEvent, WorkspaceEvents } from '../common/events';
import { PanelModel } from '../common/panelmodel';
import {
  IPipeline,
  IPipelinesConfig,
  IRun,
  RunStatus,
  listPipelines,
  listRuns,
  runPipeline,
  stopRun,
  trustConfig
} from './pipelinesapi';

/** Runs shown in a pipeline's history. */
export const HISTORY_LENGTH = 20;

/** Quiet time after `pipelines.changed` before refetching (editors save twice). */
const REFETCH_DELAY_MS = 200;

export class PipelinesModel extends PanelModel {
  constructor(options: PipelinesModel.IOptions) {
    super();
    this._events = options.events;
    this._events.received.connect(this._onEvent, this);
    this._events.connected.connect(() => void this.refresh(), this);
  }

  get pipelines(): ReadonlyArray<IPipeline> {
    return this._pipelines;
  }

  /** `null` until the first list has arrived. */
  get config(): IPipelinesConfig | null {
    return this._config;
  }

  get loading(): boolean {
    return this._loading;
  }

  /**
   * Fires once per run when this tab learns that it has ended: a run it saw
   * running, or one newer than any it knew (a run that could not start ends
   * at once). A summary added later to an old run does not fire it.
   */
  get runFinished(): ISignal<this, IRun> {
    return this._runFinished;
  }

  pipeline(name: string): IPipeline | undefined {
    return this._pipelines.find(p => p.name === name);
  }

  /** The opened history of a pipeline, newest first; `null` when closed. */
  history(name: string): ReadonlyArray<IRun> | null {
    return this._history.get(name) ?? null;
  }

  /** Whether a run request for the pipeline is on its way. */
  isStarting(name: string): boolean {
    return this._starting.has(name);
  }

  isStopping(id: number): boolean {
    return this._stopping.has(id);
  }

  /** Whether a trust request is on its way. */
  get trusting(): boolean {
    return this._trusting;
  }

  async refresh(): Promise<void> {
    window.clearTimeout(this._refetchTimer);
    const generation = ++this._generation;
    // Runs reported while the list is on its way may be newer than it.
    this._replay = [];
    try {
      const answer = await listPipelines();
      if (generation !== this._generation || this._isDisposed) {
        return;
      }
      const replay = this._replay ?? [];
      this._replay = null;
      this._pipelines = answer.pipelines;
      this._config = answer.config;
      this._loading = false;
      for (const pipeline of answer.pipelines) {
        if (pipeline.last_run) {
          // A run seen running that ended while the socket was down still counts.
          this._track(pipeline.last_run, false);
        }
      }
      for (const name of [...this._history.keys()]) {
        if (!this.pipeline(name)) {
          this._history.delete(name);
        }
      }
      replay.forEach(run => this._apply(run));
      this._emit();
      await Promise.all(
        [...this._history.keys()].map(name => this._loadHistory(name))
      );
    } catch (error) {
      if (generation === this._generation) {
        this._replay = null;
        this._loading = false;
        this._fail(error);
      }
    }
  }

  /** Start a run; resolves to it, or to null after showing the error. */
  async run(name: string): Promise<IRun | null> {
    if (this._starting.has(name)) {
      return null;
    }
    this._starting.add(name);
    this._emit();
    try {
      const run = await runPipeline(name);
      this._apply(run);
      return run;
    } catch (error) {
      this._fail(error);
      // The config may have changed (or lost its trust) since the list was read.
      void this.refresh();
      return null;
    } finally {
      this._starting.delete(name);
      this._emit();
    }
  }

  /** Stop a run (SIGINT, then TERM, then KILL on the server). */
  async stop(id: number): Promise<void> {
    if (this._stopping.has(id)) {
      return;
    }
    this._stopping.add(id);
    this._emit();
    try {
      this._apply(await stopRun(id));
    } catch (error) {
      this._fail(error);
    } finally {
      this._stopping.delete(id);
      this._emit();
    }
  }

  /**
   * Trust the config as this panel shows it (its hash): a file changed since
   * is refused by the server, and the panel shows the new content to review.
   */
  async trust(): Promise<void> {
    const hash = this._config?.hash;
    if (this._trusting || !hash) {
      return;
    }
    this._trusting = true;
    this._emit();
    try {
      const config = await trustConfig(hash);
      if (!this._isDisposed && this._config?.hash === config.hash) {
        this._config = config;
      }
    } catch (error) {
      this._fail(error);
      await this.refresh();
    } finally {
      this._trusting = false;
      this._emit();
    }
  }

  /** Show or hide a pipeline's recent runs (fetched when shown). */
  async toggleHistory(name: string): Promise<void> {
    if (this._history.has(name)) {
      this._history.delete(name);
      this._emit();
      return;
    }
    this._history.set(name, []);
    this._emit();
    await this._loadHistory(name);
  }

  dispose(): void {
    window.clearTimeout(this._refetchTimer);
    super.dispose();
  }

  private async _loadHistory(name: string): Promise<void> {
    try {
      const runs = await listRuns(name, HISTORY_LENGTH);
      if (this._isDisposed || !this._history.has(name)) {
        return;
      }
      runs.forEach(run => this._track(run, false));
      // Runs reported meanwhile are newer than the answer or the same.
      const merged = new Map(runs.map(run => [run.id, run]));
      for (const run of this._history.get(name) ?? []) {
        merged.set(run.id, run);
      }
      this._history.set(name, newestFirst([...merged.values()]));
      this._emit();
    } catch (error) {
      this._fail(error);
    }
  }

  private _onEvent(_: WorkspaceEvents, event: WorkspaceEvent): void {
    if (event.type === 'pipeline.run') {
      this._replay?.push(event.run);
      this._apply(event.run);
    } else if (event.type === 'pipelines.changed') {
      window.clearTimeout(this._refetchTimer);
      this._refetchTimer = window.setTimeout(
        () => void this.refresh(),
        REFETCH_DELAY_MS
      );
    }
  }

  /** Put a run where it shows: its pipeline's last run, its history. */
  private _apply(run: IRun): void {
    if (this._isDisposed || this._hasEnded(run)) {
      return;
    }
    this._track(run, true);
    this._pipelines = this._pipelines.map(pipeline => {
      if (pipeline.name !== run.pipeline) {
        return pipeline;
      }
      const last = pipeline.last_run;
      const running =
        run.status === 'running'
          ? run.id
          : pipeline.running === run.id
            ? null
            : pipeline.running;
      return {
        ...pipeline,
        running,
        last_run: !last || run.id >= last.id ? run : last
      };
    });
    const history = this._history.get(run.pipeline);
    if (history) {
      this._history.set(
        run.pipeline,
        newestFirst([run, ...history.filter(r => r.id !== run.id)])
      );
    }
    this._emit();
  }

  /**
   * Whether `run` is an older state of a run already shown as ended: a run
   * request's answer (`running`) can arrive after the events of a run that
   * ended at once. A run never runs again once ended.
   */
  private _hasEnded(run: IRun): boolean {
    if (run.status !== 'running') {
      return false;
    }
    const pipeline = this._pipelines.find(p => p.name === run.pipeline);
    const known =
      pipeline?.last_run?.id === run.id
        ? pipeline.last_run
        : this._history.get(run.pipeline)?.find(r => r.id === run.id);
    return known !== undefined && known.status !== 'running';
  }

  /**
   * Remember a run's status; fire `runFinished` when it has just ended.
   *
   * `fresh`: the run comes from an event or a run request, so one this tab
   * never heard of but newer than all it knows has just happened.
   */
  private _track(run: IRun, fresh: boolean): void {
    const before = this._known.get(run.id);
    const isNew = fresh && before === undefined && run.id > this._newestId;
    this._known.set(run.id, run.status);
    this._newestId = Math.max(this._newestId, run.id);
    if (run.status !== 'running' && (before === 'running' || isNew)) {
      this._runFinished.emit(run);
    }
  }

  private _events: WorkspaceEvents;
  private _pipelines: IPipeline[] = [];
  private _config: IPipelinesConfig | null = null;
  private _loading = true;
  private _generation = 0;
  private _replay: IRun[] | null = null;
  private _refetchTimer: number | undefined = undefined;
  private _history = new Map<string, IRun[]>();
  private _starting = new Set<string>();
  private _stopping = new Set<number>();
  private _trusting = false;
  private _known = new Map<number, RunStatus>();
  private _newestId = 0;
  private _runFinished = new Signal<this, IRun>(this);
}

export namespace PipelinesModel {
  export interface IOptions {
    events: WorkspaceEvents;
  }
}

function newestFirst(runs: IRun[]): IRun[] {
  return runs.sort((a, b) => b.id - a.id).slice(0, HISTORY_LENGTH);
}
