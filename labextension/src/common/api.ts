/**
 * Typed calls to the coordinator's notes and tasks routes (docs/api.md).
 */
import { TranslationBundle } from '@jupyterlab/translation';

import { requestAPI } from './request';

/** A note as the server stores it. */
export interface INote {
  id: number;
  title: string;
  body: string;
  revision: number;
  created: string;
  updated: string;
  /**
   * Who wrote it last when not the user: an agent over MCP (`mcp:<client>`);
   * `null` for the user, missing from servers before MCP.
   */
  written_by?: string | null;
}

export type Priority = 'low' | 'normal' | 'high' | 'urgent';

/** The priorities, lowest first. */
export const PRIORITIES: ReadonlyArray<Priority> = [
  'low',
  'normal',
  'high',
  'urgent'
];

/** Where in the served folder a task points to; `line` is 1-based. */
export interface ISource {
  path: string;
  line?: number | null;
  /** The last line of a passage starting at `line` (a search hit): marked in the editor. */
  end_line?: number | null;
  /** 1-based, on `line` (a compiler's file:line:column); the line's start without it. */
  column?: number | null;
  /** A notebook's cell index: `line` then counts from the cell's first line. */
  cell?: number | null;
}

/** What indexing found in a file or note (docs/api.md, "Detected tasks"). */
export interface IDetected {
  /** `TODO`, `FIXME`, `HACK`, `XXX`, `BUG`, `CHECKBOX` or `ACTION`. */
  tag: string;
  owner: string | null;
  /** An issue id such as `#42`. */
  ref: string | null;
  /** The source line as it was when last scanned. */
  snippet: string;
  /** When it disappeared from its source; `null` while it is still there. */
  resolved: string | null;
}

/** Who made a task: the user, or indexing (from a comment or a note). */
export type TaskOrigin = 'user' | 'detected';

/** A task as the server stores it. */
export interface ITask {
  id: number;
  title: string;
  done: boolean;
  priority: Priority;
  due: string | null;
  source: ISource | null;
  revision: number;
  created: string;
  updated: string;
  completed: string | null;
  /** Missing from servers before detected tasks; read it as `user`. */
  origin?: TaskOrigin;
  detected?: IDetected | null;
  /** As for notes: an agent's `mcp:<client>`, or `null` for the user. */
  written_by?: string | null;
}

/** `open` leaves resolved detected tasks out; `resolved` lists only them. */
export type TaskStatus = 'open' | 'done' | 'resolved' | 'all';

/** The origin filter of the task list: `all` asks for both. */
export type TaskOriginFilter = TaskOrigin | 'all';

export interface INoteChanges {
  title?: string;
  body?: string;
  base_revision?: number;
}

export interface ITaskFields {
  title?: string;
  priority?: Priority;
  due?: string | null;
  done?: boolean;
  source?: ISource | null;
}

export interface ITaskChanges extends ITaskFields {
  base_revision?: number;
}

function jsonBody(method: string, value: unknown): RequestInit {
  return { method, body: JSON.stringify(value) };
}

export async function listNotes(query = ''): Promise<INote[]> {
  const q = query.trim();
  const path = q ? `notes?q=${encodeURIComponent(q)}` : 'notes';
  const answer = await requestAPI<{ notes: INote[] }>(path);
  return answer.notes;
}

export function getNote(id: number): Promise<INote> {
  return requestAPI<INote>(`notes/${id}`);
}

export function createNote(
  fields: { title?: string; body?: string } = {}
): Promise<INote> {
  return requestAPI<INote>('notes', jsonBody('POST', fields));
}

export function updateNote(
  id: number,
  changes: INoteChanges,
  init: RequestInit = {}
): Promise<INote> {
  return requestAPI<INote>(`notes/${id}`, {
    ...init,
    ...jsonBody('PATCH', changes)
  });
}

export async function deleteNote(id: number): Promise<void> {
  await requestAPI<void>(`notes/${id}`, { method: 'DELETE' });
}

export async function listTasks(
  status: TaskStatus = 'open',
  origin: TaskOriginFilter = 'all',
  query = ''
): Promise<ITask[]> {
  const params = new URLSearchParams({ status });
  if (origin !== 'all') {
    params.set('origin', origin);
  }
  const q = query.trim();
  if (q) {
    params.set('q', q);
  }
  const answer = await requestAPI<{ tasks: ITask[] }>(
    `tasks?${params.toString()}`
  );
  return answer.tasks;
}

export function createTask(
  fields: ITaskFields & { title: string }
): Promise<ITask> {
  return requestAPI<ITask>('tasks', jsonBody('POST', fields));
}

export function updateTask(id: number, changes: ITaskChanges): Promise<ITask> {
  return requestAPI<ITask>(`tasks/${id}`, jsonBody('PATCH', changes));
}

export async function deleteTask(id: number): Promise<void> {
  await requestAPI<void>(`tasks/${id}`, { method: 'DELETE' });
}

/**
 * Parse what a user types as a task's file link: `path`, `path:line`.
 *
 * Returns `null` for an empty text; throws for a line that is not a positive
 * whole number, so the form can say so before the server does.
 */
export function parseSource(
  text: string,
  trans: TranslationBundle
): ISource | null {
  const value = text.trim();
  if (!value) {
    return null;
  }
  const match = /^(.*?):(\d*)$/.exec(value);
  if (!match) {
    return { path: value };
  }
  const [, path, lineText] = match;
  if (!path) {
    throw new Error(
      trans.__('A file link needs a path before the line number.')
    );
  }
  if (!lineText) {
    return { path };
  }
  const line = Number(lineText);
  if (!Number.isInteger(line) || line < 1) {
    throw new Error(trans.__('The line number must be 1 or more.'));
  }
  return { path, line };
}

/** The text form of a file link, `path:line`, as `parseSource` reads it. */
export function formatSource(source: ISource | null): string {
  if (!source) {
    return '';
  }
  return source.line ? `${source.path}:${source.line}` : source.path;
}
