/**
 * The open problems of the workspace: the failures of each pipeline's latest
 * run that said something about the code. A run that passes clears its
 * pipeline's problems; a failed or timed-out run replaces them; a run that was
 * stopped, interrupted or could not start leaves them as they were (it did not
 * get far enough to say whether they are fixed).
 */
import { WorkspaceEvent, WorkspaceEvents } from '../common/events';
import { PanelModel } from '../common/panelmodel';
import { IRun, IRunFailure, listPipelines } from '../pipelines/pipelinesapi';

/** A failure as the Problems view and the editors show it. */
export interface IProblem {
  /** All failures the pipelines find are errors (warnings are not parsed). */
  severity: 'error';
  path: string | null;
  /** 1-based; `null` when the output named no line. */
  line: number | null;
  /** 1-based; `null` when the tool gave no column. */
  column: number | null;
  message: string;
  kind: IRunFailure['kind'];
  pipeline: string;
  run: number;
}

/** The run statuses that say whether the code is fixed. */
const CONCLUSIVE = new Set<IRun['status']>(['passed', 'failed', 'timeout']);

export class ProblemsModel extends PanelModel {
  constructor(events: WorkspaceEvents) {
    super();
    events.received.connect(this._onEvent, this);
    events.connected.connect(() => void this.refresh(), this);
    if (events.state === 'open') {
      void this.refresh();
    }
  }

  /** Sorted by file, line and column; failures without a file last. */
  get problems(): ReadonlyArray<IProblem> {
    return this._problems;
  }

  /** The problems in a file. */
  problemsIn(path: string): IProblem[] {
    return this._problems.filter(problem => problem.path === path);
  }

  /** Read each pipeline's last run again (on connect: runs may have ended meanwhile). */
  async refresh(): Promise<void> {
    try {
      const answer = await listPipelines();
      if (this._isDisposed) {
        return;
      }
      const names = new Set(answer.pipelines.map(p => p.name));
      for (const name of [...this._runs.keys()]) {
        if (!names.has(name)) {
          this._runs.delete(name);
        }
      }
      for (const pipeline of answer.pipelines) {
        if (pipeline.last_run) {
          this._take(pipeline.last_run);
        }
      }
      this._update();
    } catch (error) {
      this._fail(error);
    }
  }

  private _onEvent(_: WorkspaceEvents, event: WorkspaceEvent): void {
    if (event.type === 'pipeline.run') {
      this._take(event.run);
      this._update();
    } else if (event.type === 'pipelines.changed') {
      // A pipeline removed from workspace.toml takes its problems with it.
      void this.refresh();
    }
  }

  /** Keep `run` if it is its pipeline's newest conclusive run. */
  private _take(run: IRun): void {
    const known = this._runs.get(run.pipeline);
    if (CONCLUSIVE.has(run.status) && (!known || known.id <= run.id)) {
      this._runs.set(run.pipeline, run);
    }
  }

  private _update(): void {
    const problems: IProblem[] = [];
    for (const run of this._runs.values()) {
      if (run.status === 'passed') {
        continue;
      }
      for (const failure of run.failures) {
        problems.push({
          severity: 'error',
          path: failure.path,
          line: failure.line,
          column: failure.column ?? null,
          message: failure.message,
          kind: failure.kind,
          pipeline: run.pipeline,
          run: run.id
        });
      }
    }
    problems.sort(compareProblems);
    const key = JSON.stringify(problems);
    if (key !== this._key) {
      this._key = key;
      this._problems = problems;
      this._emit();
    }
  }

  private _runs = new Map<string, IRun>();
  private _problems: IProblem[] = [];
  private _key = '[]';
}

function compareProblems(a: IProblem, b: IProblem): number {
  if (a.path !== b.path) {
    if (a.path === null || b.path === null) {
      return a.path === null ? 1 : -1;
    }
    return a.path < b.path ? -1 : 1;
  }
  return (
    (a.line ?? 0) - (b.line ?? 0) ||
    (a.column ?? 0) - (b.column ?? 0) ||
    a.pipeline.localeCompare(b.pipeline)
  );
}
