/**
 * The state of the Research panel: the jobs, newest first, kept in step with
 * `research.job` and `research.deleted` events, and the requests its buttons
 * make.
 */
import { ISignal, Signal } from '@lumino/signaling';

import { WorkspaceEvent, WorkspaceEvents } from '../common/events';
import { PanelModel } from '../common/panelmodel';
import {
  IResearchJob,
  IResearchRequest,
  ResearchStatus,
  cancelJob,
  createJob,
  deleteJob,
  isFinished,
  listJobs,
  rerunJob,
  setStanding
} from './researchapi';

export class ResearchModel extends PanelModel {
  constructor(options: ResearchModel.IOptions) {
    super();
    this._events = options.events;
    this._events.received.connect(this._onEvent, this);
    this._events.connected.connect(() => void this.refresh(), this);
  }

  /** Newest first. */
  get jobs(): ReadonlyArray<IResearchJob> {
    return this._jobs;
  }

  /** `true` until the first list has arrived. */
  get loading(): boolean {
    return this._loading;
  }

  /**
   * Fires once per run when this tab learns that a job it saw queued or
   * running has ended (done, failed or cancelled).
   */
  get jobFinished(): ISignal<this, IResearchJob> {
    return this._jobFinished;
  }

  job(id: number): IResearchJob | undefined {
    return this._jobs.find(job => job.id === id);
  }

  /** Whether a request about the job (cancel, re-run, …) is on its way. */
  isBusy(id: number): boolean {
    return this._busy.has(id);
  }

  async refresh(): Promise<void> {
    const generation = ++this._generation;
    // Jobs reported while the list is on its way may be newer than it.
    this._replay = [];
    try {
      const jobs = await listJobs();
      if (generation !== this._generation || this._isDisposed) {
        return;
      }
      const replay = this._replay ?? [];
      this._replay = null;
      this._loading = false;
      this._jobs = sortJobs(jobs);
      // A job seen running that ended while the socket was down still counts.
      jobs.forEach(job => this._track(job));
      replay.forEach(job => this._apply(job));
      this._emit();
    } catch (error) {
      if (generation === this._generation) {
        this._replay = null;
        this._loading = false;
        this._fail(error);
      }
    }
  }

  /**
   * Queue a job. Throws the server's error (a 4xx says what is wrong with the
   * question or scope), for the form to show.
   */
  async create(request: IResearchRequest): Promise<IResearchJob> {
    const job = await createJob(request);
    this._apply(job);
    return job;
  }

  cancel(id: number): Promise<void> {
    return this._act(id, () => cancelJob(id));
  }

  rerun(id: number): Promise<void> {
    return this._act(id, () => rerunJob(id));
  }

  setStanding(id: number, standing: boolean): Promise<void> {
    return this._act(id, () => setStanding(id, standing));
  }

  async delete(id: number): Promise<void> {
    await this._act(id, async () => {
      await deleteJob(id);
      this._remove(id);
      return null;
    });
  }

  /** Run a request about a job, showing its failure in the panel. */
  private async _act(
    id: number,
    request: () => Promise<IResearchJob | null>
  ): Promise<void> {
    if (this._busy.has(id)) {
      return;
    }
    this._busy.add(id);
    this._emit();
    try {
      const job = await request();
      if (job) {
        this._apply(job);
      }
    } catch (error) {
      this._fail(error);
      // The job may have ended or gone meanwhile.
      void this.refresh();
    } finally {
      this._busy.delete(id);
      this._emit();
    }
  }

  private _onEvent(_: WorkspaceEvents, event: WorkspaceEvent): void {
    if (event.type === 'research.job') {
      this._replay?.push(event.job);
      this._apply(event.job);
    } else if (event.type === 'research.deleted') {
      this._remove(event.id);
    }
  }

  private _apply(job: IResearchJob): void {
    if (this._isDisposed || this._deleted.has(job.id)) {
      return;
    }
    const known = this._jobs.find(other => other.id === job.id);
    // A request's answer can arrive after the events of the job's next steps
    // (a job that fails at once): an older state never replaces a newer one.
    if (known && isOlder(job, known)) {
      return;
    }
    this._track(job);
    // An event's job carries no sources: keep those fetched before.
    const merged: IResearchJob = { ...known, ...job };
    this._jobs = sortJobs([
      merged,
      ...this._jobs.filter(other => other.id !== job.id)
    ]);
    this._emit();
  }

  private _remove(id: number): void {
    this._deleted.add(id);
    this._known.delete(id);
    const before = this._jobs.length;
    this._jobs = this._jobs.filter(job => job.id !== id);
    if (this._jobs.length !== before) {
      this._emit();
    }
  }

  /** Remember a job's status; fire `jobFinished` when it has just ended. */
  private _track(job: IResearchJob): void {
    const before = this._known.get(job.id);
    this._known.set(job.id, job.status);
    if (isFinished(job) && (before === 'queued' || before === 'running')) {
      this._jobFinished.emit(job);
    }
  }

  private _events: WorkspaceEvents;
  private _jobs: IResearchJob[] = [];
  private _loading = true;
  private _generation = 0;
  private _replay: IResearchJob[] | null = null;
  private _busy = new Set<number>();
  private _deleted = new Set<number>();
  private _known = new Map<number, ResearchStatus>();
  private _jobFinished = new Signal<this, IResearchJob>(this);
}

export namespace ResearchModel {
  export interface IOptions {
    events: WorkspaceEvents;
  }
}

/** Where a status stands in a run: queued, then running, then ended. */
function rank(job: IResearchJob): number {
  return job.status === 'queued' ? 0 : job.status === 'running' ? 1 : 2;
}

/**
 * Whether `job` is an older state of `known`: updated before it, or in the
 * same millisecond but less far along its run.
 */
function isOlder(job: IResearchJob, known: IResearchJob): boolean {
  const updated = Date.parse(job.updated);
  const knownUpdated = Date.parse(known.updated);
  if (isNaN(updated) || isNaN(knownUpdated) || updated !== knownUpdated) {
    return updated < knownUpdated;
  }
  return rank(job) < rank(known);
}

function sortJobs(jobs: IResearchJob[]): IResearchJob[] {
  return jobs.sort((a, b) => b.id - a.id);
}
