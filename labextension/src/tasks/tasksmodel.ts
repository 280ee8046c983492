/**
 * The state of the Tasks panel: the list and its status, origin and text
 * filters.
 */

import {
  ITask,
  ITaskChanges,
  ITaskFields,
  Priority,
  TaskOriginFilter,
  TaskStatus,
  createTask,
  deleteTask,
  listTasks,
  updateTask
} from '../common/api';
import { WorkspaceEvent, WorkspaceEvents } from '../common/events';
import { PanelModel } from '../common/panelmodel';
import { WorkspaceRequestError } from '../common/request';

const PRIORITY_RANK: Record<Priority, number> = {
  urgent: 0,
  high: 1,
  normal: 2,
  low: 3
};

/** A pipeline failure's tag (server/tasks.py `FAILURE_TAG`). */
export const FAILURE_TAG = 'BUILD';

/** Whether a task is a build or test failure found by a pipeline run. */
export function isFailure(task: ITask): boolean {
  return task.origin === 'detected' && task.detected?.tag === FAILURE_TAG;
}

/** -1, 0 or 1 as `a` sorts before, with or after `b` (`null` last). */
function compareNullable<T extends string | number>(
  a: T | null,
  b: T | null
): number {
  if (a === b) {
    return 0;
  }
  if (a === null) {
    return 1;
  }
  if (b === null) {
    return -1;
  }
  return a < b ? -1 : 1;
}

/**
 * The server's order (server/tasks.py `_ORDER`): open first, then failures,
 * priority (urgent first), due date (none last), newest first; the tasks one
 * scan found at once in the order of their file.
 */
export function compareTasks(a: ITask, b: ITask): number {
  if (a.done !== b.done) {
    return a.done ? 1 : -1;
  }
  if (isFailure(a) !== isFailure(b)) {
    return isFailure(a) ? -1 : 1;
  }
  return (
    PRIORITY_RANK[a.priority] - PRIORITY_RANK[b.priority] ||
    compareNullable(a.due, b.due) ||
    compareNullable(b.created, a.created) ||
    compareNullable(a.source?.path ?? null, b.source?.path ?? null) ||
    compareNullable(a.source?.line ?? null, b.source?.line ?? null) ||
    b.id - a.id
  );
}

/** Quiet time after a file's detections are stored before refetching. */
const DETECTED_REFETCH_MS = 300;

/** Quiet time after typing in the text filter before asking the server. */
const FILTER_DELAY_MS = 250;

/** Whether a detected task has disappeared from its source. */
export function isResolved(task: ITask): boolean {
  return Boolean(task.detected?.resolved);
}

/** Whether the server would list the task under these filters. */
function matches(
  task: ITask,
  status: TaskStatus,
  origin: TaskOriginFilter,
  query: string
): boolean {
  if (origin !== 'all' && (task.origin ?? 'user') !== origin) {
    return false;
  }
  // The server's `q=` is a case-insensitive substring of the title.
  const q = query.trim().toLowerCase();
  if (q && !task.title.toLowerCase().includes(q)) {
    return false;
  }
  switch (status) {
    case 'open':
      return !task.done && !isResolved(task);
    case 'done':
      return task.done;
    case 'resolved':
      return isResolved(task);
    default:
      return true;
  }
}

export class TasksModel extends PanelModel {
  constructor(options: TasksModel.IOptions) {
    super();
    this._events = options.events;
    this._events.received.connect(this._onEvent, this);
    this._events.connected.connect(() => void this.refresh(), this);
  }

  get tasks(): ReadonlyArray<ITask> {
    return this._tasks;
  }

  get status(): TaskStatus {
    return this._status;
  }

  get origin(): TaskOriginFilter {
    return this._origin;
  }

  /** The text filter as typed. */
  get query(): string {
    return this._query;
  }

  get loading(): boolean {
    return this._loading;
  }

  setStatus(status: TaskStatus): void {
    this._setFilters(status, this._origin);
  }

  setOrigin(origin: TaskOriginFilter): void {
    this._setFilters(this._status, origin);
  }

  /**
   * Set the text filter. The shown list narrows at once; the server is asked
   * after a short pause in the typing.
   */
  setQuery(query: string): void {
    if (query === this._query) {
      return;
    }
    this._query = query;
    this._keep.clear();
    this._tasks = this._tasks.filter(task => this._matches(task));
    this._emit();
    window.clearTimeout(this._filterTimer);
    this._filterTimer = window.setTimeout(
      () => void this.refresh(),
      FILTER_DELAY_MS
    );
  }

  async refresh(): Promise<void> {
    window.clearTimeout(this._filterTimer);
    const generation = ++this._generation;
    // Events that arrive while the list is on its way may be newer than it.
    this._replay = [];
    try {
      const tasks = await listTasks(this._status, this._origin, this._query);
      if (generation === this._generation && !this._isDisposed) {
        const replay = this._replay ?? [];
        this._replay = null;
        this._keep.clear();
        this._tasks = tasks;
        this._loading = false;
        replay.forEach(event => this._apply(event));
        this._emit();
      }
    } catch (error) {
      if (generation === this._generation) {
        this._replay = null;
      }
      this._loading = false;
      this._fail(error);
    }
  }

  /** Add a task; resolves to it, or to null after showing the error. */
  async add(fields: ITaskFields & { title: string }): Promise<ITask | null> {
    try {
      const task = await createTask(fields);
      this._upsert(task);
      return task;
    } catch (error) {
      this._fail(error);
      return null;
    }
  }

  /**
   * Change some fields of a task.
   *
   * Only the changed fields are sent, without a base revision: two tabs
   * editing different fields of one task must not conflict, and for the same
   * field the last edit wins, as it would on paper.
   */
  async update(id: number, changes: ITaskChanges): Promise<ITask | null> {
    if (changes.done === true || changes.done === false) {
      // A task ticked off here stays in view (struck through) until the next
      // refresh, so it does not vanish from under the pointer.
      this._keep.add(id);
    }
    // Show the change at once; the server's answer (a higher revision)
    // replaces it, a failure puts the old task back.
    const before = this._tasks.find(t => t.id === id);
    if (before) {
      const { base_revision: _, ...fields } = changes;
      this._upsert({ ...before, ...fields }, true);
    }
    try {
      const task = await updateTask(id, changes);
      this._upsert(task);
      return task;
    } catch (error) {
      if (before) {
        this._upsert(before, true);
      }
      this._fail(error);
      if (error instanceof WorkspaceRequestError && error.status === 404) {
        this._remove(id);
      }
      return null;
    }
  }

  async remove(id: number): Promise<void> {
    try {
      await deleteTask(id);
      this._remove(id);
    } catch (error) {
      this._fail(error);
    }
  }

  dispose(): void {
    window.clearTimeout(this._refetchTimer);
    window.clearTimeout(this._filterTimer);
    super.dispose();
  }

  private _setFilters(status: TaskStatus, origin: TaskOriginFilter): void {
    if (status === this._status && origin === this._origin) {
      return;
    }
    this._status = status;
    this._origin = origin;
    this._keep.clear();
    this._tasks = this._tasks.filter(task => this._matches(task));
    this._emit();
    void this.refresh();
  }

  private _matches(task: ITask): boolean {
    return matches(task, this._status, this._origin, this._query);
  }

  private _onEvent(_: WorkspaceEvents, event: WorkspaceEvent): void {
    if (event.type === 'tasks.detected') {
      // One event per scanned file, often many in a row: refetch once.
      window.clearTimeout(this._refetchTimer);
      this._refetchTimer = window.setTimeout(
        () => void this.refresh(),
        DETECTED_REFETCH_MS
      );
      return;
    }
    this._replay?.push(event);
    this._apply(event);
  }

  private _apply(event: WorkspaceEvent): void {
    switch (event.type) {
      case 'task.created':
      case 'task.updated':
        this._upsert(event.task);
        break;
      case 'task.deleted':
        this._remove(event.id);
        break;
      default:
        break;
    }
  }

  /** Put a task in the list; an older revision is ignored unless forced. */
  private _upsert(task: ITask, force = false): void {
    const existing = this._tasks.find(t => t.id === task.id);
    if (!force && existing && existing.revision > task.revision) {
      return;
    }
    const others = this._tasks.filter(t => t.id !== task.id);
    this._tasks =
      this._matches(task) || this._keep.has(task.id)
        ? [...others, task].sort(compareTasks)
        : others;
    this._emit();
  }

  private _remove(id: number): void {
    const tasks = this._tasks.filter(t => t.id !== id);
    if (tasks.length !== this._tasks.length) {
      this._tasks = tasks;
      this._emit();
    }
  }

  private _events: WorkspaceEvents;
  private _tasks: ITask[] = [];
  private _status: TaskStatus = 'open';
  private _origin: TaskOriginFilter = 'all';
  private _query = '';
  private _refetchTimer: number | undefined = undefined;
  private _filterTimer: number | undefined = undefined;
  private _loading = true;
  private _generation = 0;
  private _keep = new Set<number>();
  private _replay: WorkspaceEvent[] | null = null;
}

export namespace TasksModel {
  export interface IOptions {
    events: WorkspaceEvents;
  }
}
