/**
 * Typed calls to the coordinator's pipeline and run routes (docs/api.md,
 * "Pipelines and runs"), and the example `workspace.toml`.
 */
import { requestAPI } from '../common/request';

/** Where a run is; every status but `running` is final. */
export type RunStatus =
  | 'running'
  | 'passed'
  | 'failed'
  | 'stopped'
  | 'timeout'
  | 'error'
  | 'interrupted';

/** The statuses that mean something went wrong and deserve a notification. */
export const FAILED_STATUSES: ReadonlyArray<RunStatus> = [
  'failed',
  'timeout',
  'error'
];

/** What started a run: the panel or a command, a watched file, `%workspace` magic. */
export type RunTrigger = 'user' | 'watch' | 'magic';

/** A failure found in a run's output; `path` is relative to the served root. */
export interface IRunFailure {
  path: string | null;
  line: number | null;
  /** 1-based, where the tool gave one (compilers); missing from older servers. */
  column?: number | null;
  message: string;
  kind: 'compiler' | 'traceback' | 'pytest' | 'make' | 'exit';
}

export interface IRun {
  id: number;
  pipeline: string;
  command: string | string[];
  cwd: string;
  trigger: RunTrigger;
  status: RunStatus;
  exit_code: number | null;
  started: string;
  ended: string | null;
  /** Seconds; `null` while running. */
  duration: number | null;
  /** The JupyterLab terminal's name while the run is running. */
  terminal: string | null;
  /** Characters of output so far (the whole stream, not only what is kept). */
  output_bytes: number;
  failures: IRunFailure[];
  summary: string | null;
  error: string | null;
}

/** `GET runs/{id}`: a run and the last 256 KiB of its output (ANSI kept). */
export interface IRunDetails extends IRun {
  output: string;
  output_truncated: boolean;
}

/** `GET runs/{id}/output?offset=n`: the stream from character `offset`. */
export interface IRunOutputChunk {
  offset: number;
  next: number;
  text: string;
  done: boolean;
  /** Part of the stream before `offset` is no longer kept. */
  gap: boolean;
}

export interface IPipeline {
  name: string;
  command: string | string[];
  cwd: string;
  env: Record<string, string>;
  timeout: number;
  watch: string[];
  debounce: number;
  description: string;
  /** The id of the run in progress. */
  running: number | null;
  last_run: IRun | null;
}

/** Who last trusted `workspace.toml`, and when (maybe content it no longer has). */
export interface IConfigApproval {
  by: string | null;
  at: string;
}

/** Where the pipelines come from, what is wrong with it, whether it may run. */
export interface IPipelinesConfig {
  path: string;
  exists: boolean;
  error: { message: string; line: number | null } | null;
  /** SHA-256 of the content read; what a trust request names. */
  hash: string | null;
  /**
   * Whether a user allowed to use terminals trusted this exact content: until
   * then nothing in it runs, by hand, by magic or on a watched change.
   */
  trusted: boolean;
  approval: IConfigApproval | null;
}

export interface IPipelineList {
  pipelines: IPipeline[];
  config: IPipelinesConfig;
}

/** The config file, at the served root. */
export const CONFIG_PATH = 'workspace.toml';

/** What a new `workspace.toml` says: all comments, so it defines nothing yet. */
export const CONFIG_EXAMPLE = `# Pipelines: named commands the Workspace Pipelines panel runs in a terminal.
# Compiler errors, Python tracebacks, pytest and make failures in their output
# become tasks linked to the file and line. Remove the "# " to start:
#
# [pipelines.build]
# command = "make -j2"             # a shell command line, or a list: ["make", "-j2"]
# cwd = "."                        # relative to this folder
# env = { CFLAGS = "-O2 -Wall" }   # added to the environment
# timeout = 600                    # seconds, then the run is stopped
# watch = ["src/**/*.c"]           # optional: run again when these files change
# description = "Build the project"
#
# [pipelines.test]
# command = "python -m pytest -q"
`;

/** A command as one line, the way a shell would read it. */
export function formatCommand(command: string | string[]): string {
  if (typeof command === 'string') {
    return command;
  }
  return command
    .map(arg => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg}'`))
    .join(' ');
}

export function listPipelines(): Promise<IPipelineList> {
  return requestAPI<IPipelineList>('pipelines');
}

/**
 * Start a run: 409 while the pipeline runs or until the config is trusted, 503
 * without terminals.
 */
export function runPipeline(name: string): Promise<IRun> {
  return requestAPI<IRun>(`pipelines/${encodeURIComponent(name)}/run`, {
    method: 'POST',
    body: '{}'
  });
}

/**
 * Trust the config whose content has `hash` (the one the user reviewed): 403
 * without the terminals permission, 409 if the file has changed since.
 */
export async function trustConfig(hash: string): Promise<IPipelinesConfig> {
  const answer = await requestAPI<{ config: IPipelinesConfig }>(
    'pipelines/trust',
    { method: 'POST', body: JSON.stringify({ hash }) }
  );
  return answer.config;
}

/** Runs, newest first. */
export async function listRuns(pipeline?: string, limit = 20): Promise<IRun[]> {
  const params = new URLSearchParams({ limit: String(limit) });
  if (pipeline) {
    params.set('pipeline', pipeline);
  }
  const answer = await requestAPI<{ runs: IRun[] }>(
    `runs?${params.toString()}`
  );
  return answer.runs;
}

export function getRun(id: number): Promise<IRunDetails> {
  return requestAPI<IRunDetails>(`runs/${id}`);
}

export function getRunOutput(
  id: number,
  offset: number
): Promise<IRunOutputChunk> {
  return requestAPI<IRunOutputChunk>(`runs/${id}/output?offset=${offset}`);
}

export function stopRun(id: number): Promise<IRun> {
  return requestAPI<IRun>(`runs/${id}/stop`, { method: 'POST', body: '{}' });
}

/** Ask the LLM why the run failed: 503 without the sidecar, 502 when the model fails. */
export function summarizeRun(id: number): Promise<IRun> {
  return requestAPI<IRun>(`runs/${id}/summarize`, {
    method: 'POST',
    body: '{}'
  });
}
