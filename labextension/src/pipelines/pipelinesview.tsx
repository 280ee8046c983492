/**
 * The Pipelines panel (left sidebar): the pipelines of `workspace.toml`, each
 * with its last run, Run / Stop, its terminal while it runs, and its history;
 * above them, while the config is not trusted, what that means and a button
 * to trust it.
 */
import { ReactWidget } from '@jupyterlab/apputils';
import { Time } from '@jupyterlab/coreutils';
import { TranslationBundle } from '@jupyterlab/translation';
import { Button, refreshIcon } from '@jupyterlab/ui-components';
import * as React from 'react';

import { afterPendingActivation } from '../common/activation';
import { Banner, ErrorBanner } from '../common/banner';
import { ConnectionStatus } from '../common/connectionstatus';
import { WorkspaceEvents } from '../common/events';
import { useActionError, useClock, useRerenderOn } from '../common/hooks';
import { pipelinesIcon } from '../common/icons';
import { translated, useTranslation } from '../common/translation';
import {
  CONFIG_PATH,
  IPipeline,
  IPipelinesConfig,
  IRun,
  formatCommand
} from './pipelinesapi';
import { PipelinesModel } from './pipelinesmodel';
import {
  RunStatusBadge,
  failureCount,
  runDuration,
  statusLabel
} from './runstatus';

export const PIPELINES_ID = 'jupyter-workspace:pipelines';

/** The example the empty panel shows. */
const EMPTY_EXAMPLE = `[pipelines.build]
command = "make -j2"
description = "Build the firmware"
watch = ["src/**/*.c"]`;

/** What the panel's buttons do in JupyterLab. */
export interface IPipelinesActions {
  /** Starts a run (and shows its terminal, if so set). */
  run: (name: string) => Promise<void>;
  stop: (id: number) => Promise<void>;
  /** Opens the running run's terminal. */
  showTerminal: (run: IRun) => Promise<void>;
  /** Opens a run's output view. */
  openRun: (id: number) => Promise<void>;
  /** Opens `workspace.toml` (made from the example if missing), at a line. */
  editConfig: (line?: number | null) => Promise<void>;
}

export interface IPipelinesViewProps {
  model: PipelinesModel;
  trans: TranslationBundle;
  events: WorkspaceEvents;
  actions: IPipelinesActions;
}

export function PipelinesView(props: IPipelinesViewProps): JSX.Element {
  const { model, events, actions } = props;
  const trans = useTranslation();
  useRerenderOn(model.changed);
  const pipelines = model.pipelines;
  // Running durations count up each second.
  useClock(pipelines.some(p => p.running !== null) ? 1000 : 60000);
  const [actionError, attempt, dismissActionError] = useActionError();
  const config = model.config;

  return (
    <div className="jp-Workspace-pipelinesRoot">
      <div className="jp-Workspace-header">
        <h2 className="jp-Workspace-heading">{trans.__('Pipelines')}</h2>
        <ConnectionStatus events={events} />
      </div>
      <div className="jp-Workspace-toolbar">
        <Button
          type="button"
          className="jp-Workspace-textButton jp-Workspace-editPipelines"
          title={trans.__(
            'Open %1 in the editor (created from an example if missing)',
            CONFIG_PATH
          )}
          onClick={() => void attempt(() => actions.editConfig())}
        >
          {trans.__('Edit pipelines')}
        </Button>
        <span className="jp-Workspace-toolbarSpacer" />
        <Button
          type="button"
          className="jp-Workspace-iconButton jp-Workspace-refreshPipelines"
          aria-label={trans.__('Refresh the pipelines')}
          title={trans.__('Refresh')}
          onClick={() => void model.refresh()}
        >
          <refreshIcon.react tag="span" elementSize="small" />
        </Button>
      </div>
      {config?.error && (
        <ConfigError
          config={config}
          onOpen={line => void attempt(() => actions.editConfig(line))}
        />
      )}
      {config?.exists && !config.error && !config.trusted && (
        <UntrustedConfig
          config={config}
          trusting={model.trusting}
          onReview={() => void attempt(() => actions.editConfig())}
          onTrust={() => void model.trust()}
        />
      )}
      <ErrorBanner
        message={model.error}
        onDismiss={() => model.dismissError()}
      />
      <ErrorBanner message={actionError} onDismiss={dismissActionError} />
      {pipelines.length > 0 && (
        <ul
          className="jp-Workspace-pipelineList"
          aria-label={trans.__('Pipelines')}
        >
          {pipelines.map(pipeline => (
            <PipelineItem
              key={pipeline.name}
              pipeline={pipeline}
              model={model}
              actions={actions}
              attempt={attempt}
            />
          ))}
        </ul>
      )}
      {!model.loading && pipelines.length === 0 && !config?.error && (
        <div className="jp-Workspace-pipelinesEmpty">
          <p>
            {trans.__('No pipelines yet —')}{' '}
            <Button
              type="button"
              className="jp-Workspace-linkButton"
              onClick={() => void attempt(() => actions.editConfig())}
            >
              {trans.__('Edit pipelines')}
            </Button>{' '}
            {trans.__('to add one. For example, in')} <code>{CONFIG_PATH}</code>
            :
          </p>
          <pre className="jp-Workspace-pipelinesExample">{EMPTY_EXAMPLE}</pre>
          <p>
            {trans.__(
              'Each run is a terminal you can watch and type into; errors in its output become tasks linked to their lines.'
            )}
          </p>
        </div>
      )}
    </div>
  );
}

function ConfigError(props: {
  config: IPipelinesConfig;
  onOpen: (line: number | null) => void;
}): JSX.Element | null {
  const error = props.config.error;
  const trans = useTranslation();
  if (!error) {
    return null;
  }
  const where =
    error.line !== null
      ? trans.__('%1, line %2', props.config.path, error.line)
      : props.config.path;
  return (
    <div
      className="jp-Workspace-pipelinesConfigError"
      data-line={error.line ?? undefined}
    >
      <Banner kind="error">
        <strong>{where}:</strong> {error.message}
        <div className="jp-Workspace-bannerActions">
          <Button
            type="button"
            className="jp-Workspace-textButton jp-Workspace-openConfigError"
            onClick={() => props.onOpen(error.line)}
          >
            {error.line !== null
              ? trans.__('Open %1 at line %2', props.config.path, error.line)
              : trans.__('Open %1', props.config.path)}
          </Button>
        </div>
      </Banner>
    </div>
  );
}

/**
 * `workspace.toml` changed (or is new) since a user allowed to use terminals
 * last trusted it: nothing in it runs until such a user trusts it here.
 */
function UntrustedConfig(props: {
  config: IPipelinesConfig;
  trusting: boolean;
  onReview: () => void;
  onTrust: () => void;
}): JSX.Element {
  const { config, trusting } = props;
  const trans = useTranslation();
  const approval = config.approval;
  const state = approval
    ? trans.__(
        '%1 has changed since %2 trusted it (%3).',
        config.path,
        approval.by ?? trans.__('a user'),
        Time.formatHuman(approval.at)
      )
    : trans.__('%1 is not trusted yet.', config.path);
  return (
    <div className="jp-Workspace-pipelinesUntrusted" data-hash={config.hash}>
      <Banner kind="warning">
        <strong>{state}</strong>{' '}
        {trans.__(
          "Its commands run as the server's user: nothing in it runs (Run, magics, watched changes) until someone allowed to use terminals reviews it and trusts it."
        )}
        <div className="jp-Workspace-bannerActions">
          <Button
            type="button"
            className="jp-Workspace-textButton jp-Workspace-reviewConfig"
            onClick={props.onReview}
          >
            {trans.__('Review %1', config.path)}
          </Button>
          <Button
            type="button"
            className="jp-Workspace-textButton jp-mod-accept jp-Workspace-trustConfig"
            disabled={trusting}
            aria-busy={trusting}
            title={trans.__(
              'Let the commands of %1 as it is now run, watch mode included',
              config.path
            )}
            onClick={props.onTrust}
          >
            {trusting
              ? trans.__('Trusting…')
              : trans.__('Trust this configuration')}
          </Button>
        </div>
      </Banner>
    </div>
  );
}

interface IPipelineItemProps {
  pipeline: IPipeline;
  model: PipelinesModel;
  actions: IPipelinesActions;
  attempt: (action: () => Promise<void>) => Promise<void>;
}

function PipelineItem(props: IPipelineItemProps): JSX.Element {
  const { pipeline, model, actions, attempt } = props;
  const trans = useTranslation();
  const last = pipeline.last_run;
  const running = last?.status === 'running' ? last : null;
  const starting = model.isStarting(pipeline.name);
  const untrusted = model.config?.trusted === false;
  const history = model.history(pipeline.name);
  const historyId = `jp-Workspace-runHistory-${pipeline.name}`;
  return (
    <li
      className="jp-Workspace-pipelineItem"
      data-name={pipeline.name}
      data-status={last?.status ?? 'never'}
    >
      <div className="jp-Workspace-pipelineHeader">
        <span className="jp-Workspace-pipelineName">{pipeline.name}</span>
        <RunStatusBadge status={last?.status ?? 'never'} />
        {running ? (
          <Button
            type="button"
            className="jp-Workspace-textButton jp-Workspace-stopRun"
            disabled={model.isStopping(running.id)}
            aria-busy={model.isStopping(running.id)}
            title={trans.__('Stop run %1 of %2', running.id, pipeline.name)}
            onClick={() => void attempt(() => actions.stop(running.id))}
          >
            {model.isStopping(running.id)
              ? trans.__('Stopping…')
              : trans.__('Stop')}
          </Button>
        ) : (
          <Button
            type="button"
            className="jp-Workspace-textButton jp-mod-accept jp-Workspace-runPipeline"
            disabled={starting || untrusted}
            aria-busy={starting}
            title={
              untrusted
                ? trans.__(
                    'Trust %1 before running %2',
                    CONFIG_PATH,
                    pipeline.name
                  )
                : trans.__('Run %1', pipeline.name)
            }
            onClick={() => void attempt(() => actions.run(pipeline.name))}
          >
            {starting ? trans.__('Starting…') : trans.__('Run')}
          </Button>
        )}
      </div>
      {pipeline.description && (
        <div className="jp-Workspace-pipelineDescription">
          {pipeline.description}
        </div>
      )}
      <code
        className="jp-Workspace-pipelineCommand"
        title={trans.__(
          'In %1: %2',
          pipeline.cwd || trans.__('the served folder'),
          formatCommand(pipeline.command)
        )}
      >
        {formatCommand(pipeline.command)}
      </code>
      {pipeline.watch.length > 0 && (
        <div
          className="jp-Workspace-pipelineWatch"
          title={trans.__('Runs again when these files change')}
        >
          {trans.__('on change: %1', pipeline.watch.join(', '))}
        </div>
      )}
      {last && <LastRun run={last} />}
      <div className="jp-Workspace-pipelineActions">
        {running && (
          <Button
            type="button"
            className="jp-Workspace-textButton jp-Workspace-showTerminal"
            title={trans.__("Open the run's terminal: live output, and input")}
            onClick={() => void attempt(() => actions.showTerminal(running))}
          >
            {trans.__('Show terminal')}
          </Button>
        )}
        {last && !running && (
          <Button
            type="button"
            className="jp-Workspace-textButton jp-Workspace-openRun"
            title={trans.__('Open the output of run %1', last.id)}
            onClick={() => void attempt(() => actions.openRun(last.id))}
          >
            {trans.__('Output')}
          </Button>
        )}
        <Button
          type="button"
          className="jp-Workspace-textButton jp-Workspace-runHistoryToggle"
          aria-expanded={history !== null}
          aria-controls={history !== null ? historyId : undefined}
          onClick={() => void model.toggleHistory(pipeline.name)}
        >
          {trans.__('History')}
        </Button>
      </div>
      {history !== null && (
        <ol
          id={historyId}
          className="jp-Workspace-runHistory"
          aria-label={trans.__('Recent runs of %1', pipeline.name)}
        >
          {history.length === 0 && (
            <li className="jp-Workspace-empty">{trans.__('No runs yet.')}</li>
          )}
          {history.map(run => (
            <li
              key={run.id}
              className="jp-Workspace-runItem"
              data-id={run.id}
              data-status={run.status}
            >
              <Button
                type="button"
                className="jp-Workspace-runOpen"
                title={trans.__(
                  'Open run %1 (%2)',
                  run.id,
                  Time.format(run.started)
                )}
                aria-label={trans.__(
                  'Run %1: %2, %3',
                  run.id,
                  statusLabel(run.status, trans),
                  Time.formatHuman(run.started)
                )}
                onClick={() => void attempt(() => actions.openRun(run.id))}
              >
                <span className="jp-Workspace-runNumber">#{run.id}</span>
                <RunStatusBadge status={run.status} />
                <span className="jp-Workspace-runDuration">
                  {runDuration(run, trans)}
                </span>
                <span className="jp-Workspace-runWhen">
                  {Time.formatHuman(run.started)}
                  {run.trigger !== 'user' && ` · ${run.trigger}`}
                </span>
              </Button>
            </li>
          ))}
        </ol>
      )}
    </li>
  );
}

/** The last run's duration, when it started, how many failures it had. */
function LastRun(props: { run: IRun }): JSX.Element {
  const { run } = props;
  const trans = useTranslation();
  const parts: JSX.Element[] = [];
  const duration = runDuration(run, trans);
  if (duration) {
    parts.push(
      <span key="duration" className="jp-Workspace-runDuration">
        {duration}
      </span>
    );
  }
  parts.push(
    <span
      key="when"
      className="jp-Workspace-runWhen"
      title={Time.format(run.started)}
    >
      {Time.formatHuman(run.started)}
    </span>
  );
  if (run.status !== 'running' && run.status !== 'passed') {
    parts.push(<span key="failures">{failureCount(run, trans)}</span>);
  }
  if (run.trigger !== 'user') {
    parts.push(
      <span key="trigger">
        {run.trigger === 'watch'
          ? trans.__('started by a change')
          : trans.__('started by magic')}
      </span>
    );
  }
  return (
    <div className="jp-Workspace-pipelineLastRun">
      {parts.map((part, index) => (
        <React.Fragment key={part.key}>
          {index > 0 && ' · '}
          {part}
        </React.Fragment>
      ))}
    </div>
  );
}

/** The Pipelines panel widget for the left sidebar. */
export class PipelinesPanel extends ReactWidget {
  constructor(private _props: IPipelinesViewProps) {
    super();
    this.id = PIPELINES_ID;
    this.addClass('jp-Workspace-pipelines');
    this.title.icon = pipelinesIcon;
    this.title.caption = _props.trans.__('Workspace Pipelines');
  }

  /**
   * Put the focus on "Trust this configuration" while it shows, else on the
   * first pipeline's Run button (or Edit pipelines).
   */
  async focusFirst(): Promise<void> {
    await afterPendingActivation();
    this.node
      .querySelector<HTMLButtonElement>(
        '.jp-Workspace-trustConfig, .jp-Workspace-runPipeline:enabled, .jp-Workspace-stopRun, .jp-Workspace-editPipelines'
      )
      ?.focus();
  }

  render(): JSX.Element {
    return translated(this._props.trans, <PipelinesView {...this._props} />);
  }
}
