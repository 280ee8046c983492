/**
 * Typed calls to the coordinator's research routes (docs/api.md, "Research
 * jobs"): questions answered by a background job that plans, gathers,
 * extracts, writes and verifies a cited report into a note.
 */
import { requestAPI } from '../common/request';

/** How far a job looks (its budget of searches, files and tokens). */
export type ResearchDepth = 'quick' | 'standard' | 'deep';

export const RESEARCH_DEPTHS: ReadonlyArray<ResearchDepth> = [
  'quick',
  'standard',
  'deep'
];

/** Where a job is; `done`, `failed` and `cancelled` are final. */
export type ResearchStatus =
  'queued' | 'running' | 'done' | 'failed' | 'cancelled';

/** The statuses a job stays in until it ends. */
export const ACTIVE_STATUSES: ReadonlyArray<ResearchStatus> = [
  'queued',
  'running'
];

/** The steps of a run, in order (protocol.RESEARCH_STEPS). */
export type ResearchStep = 'plan' | 'gather' | 'extract' | 'write' | 'verify';

export const RESEARCH_STEPS: ReadonlyArray<ResearchStep> = [
  'plan',
  'gather',
  'extract',
  'write',
  'verify'
];

/** `llm`: with the language model; `retrieval`: search results only (no LLM). */
export type ResearchMode = 'llm' | 'retrieval';

/** What a job may read: root-relative globs, language names, notes or not. */
export interface IResearchScope {
  paths: string[];
  languages: string[];
  notes: boolean;
}

/** Where a step is: not reached yet, running, done, or failed. */
export type ResearchStepStatus = 'pending' | 'running' | 'done' | 'failed';

/** One step of a job's current (or last) run. */
export interface IResearchJobStep {
  name: ResearchStep;
  status: ResearchStepStatus;
  detail?: string | null;
  started?: string | null;
  ended?: string | null;
}

/** A file the report read, with its hash then; `cited` when the report cites it. */
export interface IResearchSource {
  path: string;
  hash: string | null;
  cited: boolean;
}

/** A research job as `GET research/{id}` answers it (the list and events leave `sources` out). */
export interface IResearchJob {
  id: number;
  question: string;
  scope: IResearchScope;
  depth: ResearchDepth;
  status: ResearchStatus;
  mode: ResearchMode | null;
  step: ResearchStep | null;
  /** 0..1 over the whole job. */
  progress: number;
  /** One line: what the job is doing or did. */
  detail: string | null;
  /** Runs again by itself when a file it cited (or its scope) changes. */
  standing: boolean;
  /** The note the report is written to, once written. */
  note_id: number | null;
  error: string | null;
  tokens_in: number;
  tokens_out: number;
  /** US dollars, as the LLM's pricing says; 0 when unknown. */
  cost: number;
  runs: number;
  created: string;
  updated: string;
  started: string | null;
  ended: string | null;
  /** A file the report read has changed since: a re-run would see it. */
  sources_changed: boolean;
  sources?: IResearchSource[];
  steps: IResearchJobStep[];
}

/** What `POST research` takes. */
export interface IResearchRequest {
  question: string;
  scope?: Partial<IResearchScope>;
  depth?: ResearchDepth;
  standing?: boolean;
}

/** Whether a job has ended (done, failed or cancelled). */
export function isFinished(job: IResearchJob): boolean {
  return !ACTIVE_STATUSES.includes(job.status);
}

/** Jobs, newest first (without `sources`). */
export async function listJobs(): Promise<IResearchJob[]> {
  const answer = await requestAPI<{ jobs: IResearchJob[] }>('research');
  return answer.jobs;
}

export function getJob(id: number): Promise<IResearchJob> {
  return requestAPI<IResearchJob>(`research/${id}`);
}

/** Queue a job: 400 with the reason for a bad question or scope. */
export function createJob(request: IResearchRequest): Promise<IResearchJob> {
  return requestAPI<IResearchJob>('research', {
    method: 'POST',
    body: JSON.stringify(request)
  });
}

/** Cancel a queued or running job: 409 when it has ended already. */
export function cancelJob(id: number): Promise<IResearchJob> {
  return requestAPI<IResearchJob>(`research/${id}/cancel`, {
    method: 'POST',
    body: '{}'
  });
}

/** Run a finished job again (its note is updated): 409 while it runs. */
export function rerunJob(id: number): Promise<IResearchJob> {
  return requestAPI<IResearchJob>(`research/${id}/rerun`, {
    method: 'POST',
    body: '{}'
  });
}

export function setStanding(
  id: number,
  standing: boolean
): Promise<IResearchJob> {
  return requestAPI<IResearchJob>(`research/${id}`, {
    method: 'PATCH',
    body: JSON.stringify({ standing })
  });
}

/** Delete a job; its note stays. */
export async function deleteJob(id: number): Promise<void> {
  await requestAPI<void>(`research/${id}`, { method: 'DELETE' });
}

/** A comma-separated field as its items, trimmed, without empty ones. */
export function splitList(text: string): string[] {
  return text
    .split(',')
    .map(item => item.trim())
    .filter(item => item !== '');
}
