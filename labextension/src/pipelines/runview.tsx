/**
 * A run's output view (main area): status, exit code, duration, the failures
 * with links to their lines, the LLM's summary, and the output as text.
 */
import { MainAreaWidget, ReactWidget } from '@jupyterlab/apputils';
import { Time } from '@jupyterlab/coreutils';
import { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import { ISource } from '../common/api';
import { Banner, ErrorBanner } from '../common/banner';
import { useActionError, useClock, useRerenderOn } from '../common/hooks';
import { SourceLink } from '../common/sourcelink';
import { translated, useTranslation } from '../common/translation';
import { useLLMBlocked } from '../sidecar/llmgate';
import { IStyledText, parseAnsi } from './ansi';
import { IRun, IRunDetails, IRunFailure, formatCommand } from './pipelinesapi';
import { RunModel } from './runmodel';
import {
  RunStatusBadge,
  failureCount,
  runDuration,
  statusLabel
} from './runstatus';
import { Button } from '@jupyterlab/ui-components';

/** What the view's buttons do in JupyterLab. */
export interface IRunViewActions {
  /** Opens the run's terminal (live output and input) while it runs. */
  showTerminal: (run: IRun) => Promise<void>;
  /** Starts the pipeline again. */
  runAgain: (pipeline: string) => Promise<void>;
  /** Opens a file at a line; rejects with a message for the user. */
  openSource: (source: ISource) => Promise<void>;
}

export interface IRunViewProps {
  model: RunModel;
  trans: TranslationBundle;
  actions: IRunViewActions;
}

/** The DOM id of a run's output view. */
export function runWidgetId(id: number): string {
  return `jupyter-workspace:run-${id}`;
}

export function RunView(props: IRunViewProps): JSX.Element {
  const { model, actions } = props;
  const trans = useTranslation();
  useRerenderOn(model.changed);
  const run = model.run;
  const [actionError, attempt, dismissActionError] = useActionError();
  const llmBlocked = useLLMBlocked(trans);

  if (!run) {
    return (
      <div className="jp-Workspace-runRoot">
        {model.error ? (
          <Banner kind="error">
            {trans.__('Cannot load run %1: %2', model.id, model.error)}
          </Banner>
        ) : (
          <div className="jp-Workspace-empty">
            {trans.__('Loading run %1…', model.id)}
          </div>
        )}
      </div>
    );
  }

  const running = run.status === 'running';
  return (
    <div
      className="jp-Workspace-runRoot"
      data-id={run.id}
      data-status={run.status}
    >
      <RunHeader run={run} />
      <div className="jp-Workspace-runActions">
        {running && (
          <Button
            type="button"
            className="jp-Workspace-textButton jp-Workspace-showTerminal"
            onClick={() => void attempt(() => actions.showTerminal(run))}
          >
            {trans.__('Show terminal')}
          </Button>
        )}
        {!running && (
          <Button
            type="button"
            className="jp-Workspace-textButton jp-Workspace-rerun"
            title={trans.__('Run %1 again', run.pipeline)}
            onClick={() => void attempt(() => actions.runAgain(run.pipeline))}
          >
            {trans.__('Run again')}
          </Button>
        )}
        {!running && run.status !== 'passed' && (
          <Button
            type="button"
            className="jp-Workspace-textButton jp-Workspace-summarizeRun"
            disabled={model.summarizing || !!llmBlocked}
            aria-busy={model.summarizing}
            title={
              llmBlocked ||
              trans.__(
                'Ask the language model for the likely cause and where to look first'
              )
            }
            onClick={() => void model.summarize()}
          >
            {model.summarizing
              ? trans.__('Summarizing…')
              : trans.__('Summarize with the LLM')}
          </Button>
        )}
      </div>
      <ErrorBanner
        message={model.error}
        onDismiss={() => model.dismissError()}
      />
      <ErrorBanner message={actionError} onDismiss={dismissActionError} />
      {run.error && (
        <div className="jp-Workspace-runError">
          <Banner kind="warning">{run.error}</Banner>
        </div>
      )}
      {model.summaryError && (
        <div className="jp-Workspace-summaryError">
          <Banner kind="error" onDismiss={() => model.dismissSummaryError()}>
            {model.summaryError}
          </Banner>
        </div>
      )}
      {run.summary && (
        <section
          className="jp-Workspace-runSection"
          aria-label={trans.__('Summary')}
        >
          <h3 className="jp-Workspace-runSectionTitle">
            {trans.__('Summary (language model)')}
          </h3>
          <p className="jp-Workspace-runSummary">{run.summary}</p>
        </section>
      )}
      <Failures
        run={run}
        onOpen={source => void attempt(() => actions.openSource(source))}
      />
      <Output model={model} />
    </div>
  );
}

function RunHeader(props: { run: IRunDetails }): JSX.Element {
  const { run } = props;
  const trans = useTranslation();
  useClock(run.status === 'running' ? 1000 : 60000);
  const duration = runDuration(run, trans);
  return (
    <div className="jp-Workspace-runHeader">
      <h2 className="jp-Workspace-runTitle">
        {run.pipeline}{' '}
        <span className="jp-Workspace-runNumber">
          {trans.__('run %1', run.id)}
        </span>
      </h2>
      <RunStatusBadge status={run.status} />
      <dl className="jp-Workspace-runFacts">
        <dt>{trans.__('Exit code')}</dt>
        <dd className="jp-Workspace-runExitCode">
          {run.exit_code === null ? '–' : run.exit_code}
        </dd>
        <dt>{trans.__('Duration')}</dt>
        <dd className="jp-Workspace-runDuration">{duration || '–'}</dd>
        <dt>{trans.__('Started')}</dt>
        <dd title={Time.format(run.started)}>
          {Time.formatHuman(run.started)}
          {run.trigger !== 'user' && ` (${run.trigger})`}
        </dd>
        <dt>{trans.__('Command')}</dt>
        <dd>
          <code className="jp-Workspace-runCommand">
            {formatCommand(run.command)}
          </code>
          {run.cwd && run.cwd !== '.' && (
            <span className="jp-Workspace-runCwd">
              {' '}
              {trans.__('in %1/', run.cwd)}
            </span>
          )}
        </dd>
      </dl>
    </div>
  );
}

function Failures(props: {
  run: IRun;
  onOpen: (source: ISource) => void;
}): JSX.Element | null {
  const { run, onOpen } = props;
  const trans = useTranslation();
  if (run.failures.length === 0) {
    return null;
  }
  return (
    <section
      className="jp-Workspace-runSection"
      aria-label={trans.__('Failures')}
    >
      <h3 className="jp-Workspace-runSectionTitle">
        {failureCount(run, trans)}
      </h3>
      <ul className="jp-Workspace-runFailures">
        {run.failures.map((failure, index) => (
          <FailureItem
            key={`${failure.path}:${failure.line}:${index}`}
            failure={failure}
            onOpen={onOpen}
          />
        ))}
      </ul>
    </section>
  );
}

function FailureItem(props: {
  failure: IRunFailure;
  onOpen: (source: ISource) => void;
}): JSX.Element {
  const { failure, onOpen } = props;
  return (
    <li className="jp-Workspace-runFailure" data-kind={failure.kind}>
      <span className="jp-Workspace-failureKind">{failure.kind}</span>
      {failure.path && (
        <SourceLink
          className="jp-Workspace-failureSource"
          source={{
            path: failure.path,
            line: failure.line,
            column: failure.column
          }}
          onOpen={onOpen}
        />
      )}
      <span className="jp-Workspace-failureMessage">{failure.message}</span>
    </li>
  );
}

/** The output, styled as the terminal showed it, scrolled to its end. */
function Output(props: { model: RunModel }): JSX.Element {
  const { model } = props;
  const trans = useTranslation();
  const output = model.output;
  const pieces = React.useMemo(() => parseAnsi(output), [output]);
  const ref = React.useRef<HTMLPreElement>(null);
  const atEnd = React.useRef(true);

  // Follow new output while the reader is at the end; leave them where they are otherwise.
  React.useLayoutEffect(() => {
    const node = ref.current;
    if (node && atEnd.current) {
      node.scrollTop = node.scrollHeight;
    }
  }, [output]);

  return (
    <section
      className="jp-Workspace-runSection jp-Workspace-runOutputSection"
      aria-label={trans.__('Output')}
    >
      <h3 className="jp-Workspace-runSectionTitle">{trans.__('Output')}</h3>
      {model.truncated && (
        <div className="jp-Workspace-runTruncated">
          {trans.__('Older output is not kept: this is the last 256 KiB.')}
        </div>
      )}
      <pre
        ref={ref}
        className="jp-Workspace-runOutput"
        tabIndex={0}
        aria-label={trans.__('Output of run %1', model.id)}
        onScroll={event => {
          const node = event.currentTarget;
          atEnd.current =
            node.scrollHeight - node.scrollTop - node.clientHeight < 8;
        }}
      >
        {pieces.length === 0 ? (
          <span className="jp-Workspace-runNoOutput">
            {trans.__('(no output)')}
          </span>
        ) : (
          pieces.map((piece, index) => <StyledText key={index} piece={piece} />)
        )}
      </pre>
    </section>
  );
}

/**
 * The 16 basic colours as the theme's own (bright ones alike); black and
 * white stay the text colour, which is readable on every theme.
 */
const ANSI_COLOURS: ReadonlyArray<string | undefined> = [
  undefined,
  'var(--jp-error-color1)',
  'var(--jp-success-color1)',
  'var(--jp-warn-color1)',
  'var(--jp-brand-color1)',
  'var(--jp-mirror-editor-meta-color)',
  'var(--jp-info-color1)',
  undefined
];

function StyledText(props: { piece: IStyledText }): JSX.Element {
  const { piece } = props;
  if (piece.fg === null && !piece.bold && !piece.dim && !piece.underline) {
    return <>{piece.text}</>;
  }
  // Bright black is the usual grey of faint text.
  const colour =
    piece.fg === null
      ? undefined
      : piece.fg === 8
        ? 'var(--jp-ui-font-color2)'
        : ANSI_COLOURS[piece.fg % 8];
  const style: React.CSSProperties = {
    color: colour,
    fontWeight: piece.bold ? 700 : undefined,
    opacity: piece.dim ? 0.7 : undefined,
    textDecoration: piece.underline ? 'underline' : undefined
  };
  return <span style={style}>{piece.text}</span>;
}

/** The view's widget; disposing it stops following the run. */
export class RunPanel extends ReactWidget {
  constructor(private _props: IRunViewProps) {
    super();
    this.addClass('jp-Workspace-run');
    this._props.model.changed.connect(this._updateTitle, this);
  }

  get model(): RunModel {
    return this._props.model;
  }

  dispose(): void {
    this._props.model.dispose();
    super.dispose();
  }

  render(): JSX.Element {
    return translated(this._props.trans, <RunView {...this._props} />);
  }

  private _updateTitle(): void {
    const run = this.model.run;
    const trans = this._props.trans;
    if (run) {
      this.title.label = trans.__('%1 · run %2', run.pipeline, run.id);
      this.title.caption = trans.__(
        'Pipeline %1, run %2: %3',
        run.pipeline,
        run.id,
        statusLabel(run.status, trans)
      );
    }
  }
}

/** A run's output view in a main-area tab. */
export function createRunWidget(
  props: IRunViewProps,
  icon: MainAreaWidget['title']['icon']
): MainAreaWidget<RunPanel> {
  const content = new RunPanel(props);
  const widget = new MainAreaWidget({ content });
  widget.id = runWidgetId(props.model.id);
  widget.title.label = props.trans.__('Run %1', props.model.id);
  widget.title.icon = icon;
  widget.title.closable = true;
  widget.addClass('jp-Workspace-runWidget');
  return widget;
}
