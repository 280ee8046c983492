/**
 * The Research panel (left sidebar): a form that queues a research question
 * (depth, scope, standing), and the jobs, newest first, with their live
 * status, steps, progress, usage and actions (Cancel, Re-run, Standing,
 * Delete, Open note).
 */
import { Dialog, ReactWidget, showDialog } from '@jupyterlab/apputils';
import { Time } from '@jupyterlab/coreutils';
import { TranslationBundle } from '@jupyterlab/translation';
import { Button, HTMLSelect, refreshIcon } from '@jupyterlab/ui-components';
import * as React from 'react';

import { afterPendingActivation } from '../common/activation';
import { Banner, ErrorBanner } from '../common/banner';
import { ConnectionStatus } from '../common/connectionstatus';
import { WorkspaceEvents } from '../common/events';
import { useActionError, useClock, useRerenderOn } from '../common/hooks';
import { researchIcon } from '../common/icons';
import { errorMessage } from '../common/request';
import { translated, useTranslation } from '../common/translation';
import {
  IResearchJob,
  IResearchJobStep,
  RESEARCH_DEPTHS,
  RESEARCH_STEPS,
  ResearchDepth,
  ResearchStatus,
  ResearchStep,
  isFinished,
  splitList
} from './researchapi';
import { ResearchModel } from './researchmodel';

export const RESEARCH_ID = 'jupyter-workspace:research';

/** The longest question the form sends (the server says the same). */
const MAX_QUESTION_CHARS = 4000;

/** What the panel's buttons do in JupyterLab. */
export interface IResearchActions {
  /** Opens the job's report in the Notes panel. */
  openNote: (noteId: number) => Promise<void>;
}

export interface IResearchViewProps {
  model: ResearchModel;
  trans: TranslationBundle;
  events: WorkspaceEvents;
  actions: IResearchActions;
}

export function depthLabel(
  depth: ResearchDepth,
  trans: TranslationBundle
): string {
  switch (depth) {
    case 'quick':
      return trans.__('Quick');
    case 'deep':
      return trans.__('Deep');
    default:
      return trans.__('Standard');
  }
}

export function statusLabel(
  status: ResearchStatus,
  trans: TranslationBundle
): string {
  switch (status) {
    case 'queued':
      return trans.__('Queued');
    case 'running':
      return trans.__('Running');
    case 'done':
      return trans.__('Done');
    case 'failed':
      return trans.__('Failed');
    case 'cancelled':
      return trans.__('Cancelled');
    default:
      return String(status);
  }
}

export function stepLabel(
  step: ResearchStep,
  trans: TranslationBundle
): string {
  switch (step) {
    case 'plan':
      return trans.__('Plan');
    case 'gather':
      return trans.__('Gather');
    case 'extract':
      return trans.__('Extract');
    case 'write':
      return trans.__('Write');
    case 'verify':
      return trans.__('Verify');
    default:
      return String(step);
  }
}

/** Tokens in and out, and the cost when the model's pricing is known. */
export function usageText(job: IResearchJob, trans: TranslationBundle): string {
  const tokens = (job.tokens_in ?? 0) + (job.tokens_out ?? 0);
  if (tokens === 0 && !job.cost) {
    return '';
  }
  const parts = [
    trans.__(
      '%1 tokens (%2 in, %3 out)',
      tokens.toLocaleString(),
      (job.tokens_in ?? 0).toLocaleString(),
      (job.tokens_out ?? 0).toLocaleString()
    )
  ];
  if (job.cost) {
    parts.push(
      `$${job.cost < 0.01 ? job.cost.toFixed(4) : job.cost.toFixed(2)}`
    );
  }
  return parts.join(' · ');
}

export function ResearchView(props: IResearchViewProps): JSX.Element {
  const { model, events, actions } = props;
  const trans = useTranslation();
  useRerenderOn(model.changed);
  const jobs = model.jobs;
  // Relative times ("2 minutes ago") stay right.
  useClock(60000);
  const [actionError, attempt, dismissActionError] = useActionError();

  return (
    <div className="jp-Workspace-researchRoot">
      <div className="jp-Workspace-header">
        <h2 className="jp-Workspace-heading">{trans.__('Research')}</h2>
        <ConnectionStatus events={events} />
      </div>
      <QueueForm model={model} />
      <div className="jp-Workspace-toolbar">
        <span className="jp-Workspace-researchCount">
          {jobs.length === 1
            ? trans.__('1 job')
            : trans.__('%1 jobs', jobs.length)}
        </span>
        <span className="jp-Workspace-toolbarSpacer" />
        <Button
          type="button"
          className="jp-Workspace-iconButton jp-Workspace-refreshResearch"
          aria-label={trans.__('Refresh the research jobs')}
          title={trans.__('Refresh')}
          onClick={() => void model.refresh()}
        >
          <refreshIcon.react tag="span" elementSize="small" />
        </Button>
      </div>
      <ErrorBanner
        message={model.error}
        onDismiss={() => model.dismissError()}
      />
      <ErrorBanner message={actionError} onDismiss={dismissActionError} />
      {jobs.length > 0 && (
        <ul
          className="jp-Workspace-researchList"
          aria-label={trans.__('Research jobs')}
        >
          {jobs.map(job => (
            <JobItem
              key={job.id}
              job={job}
              model={model}
              actions={actions}
              attempt={attempt}
            />
          ))}
        </ul>
      )}
      {!model.loading && jobs.length === 0 && (
        <p className="jp-Workspace-empty jp-Workspace-researchEmpty">
          {trans.__(
            'No research yet. Ask a question about this folder: a job plans searches, reads the code and notes they find, and writes a report with citations checked against the files into a note.'
          )}
        </p>
      )}
    </div>
  );
}

/** The form that queues a job; the server's 4xx message shows inside it. */
function QueueForm(props: { model: ResearchModel }): JSX.Element {
  const { model } = props;
  const trans = useTranslation();
  const [question, setQuestion] = React.useState('');
  const [depth, setDepth] = React.useState<ResearchDepth>('standard');
  const [paths, setPaths] = React.useState('');
  const [languages, setLanguages] = React.useState('');
  const [notes, setNotes] = React.useState(true);
  const [standing, setStanding] = React.useState(false);
  const [error, setError] = React.useState('');
  const [busy, setBusy] = React.useState(false);
  const id = React.useId();

  const submit = async (): Promise<void> => {
    if (busy || !question.trim()) {
      return;
    }
    setBusy(true);
    setError('');
    try {
      await model.create({
        question: question.trim(),
        depth,
        standing,
        scope: {
          paths: splitList(paths),
          languages: splitList(languages),
          notes
        }
      });
      // The scope and depth stay: the next question is often about the same code.
      setQuestion('');
    } catch (reason) {
      setError(errorMessage(reason));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form
      className="jp-Workspace-researchForm"
      aria-label={trans.__('Queue a research question')}
      onSubmit={event => {
        event.preventDefault();
        void submit();
      }}
    >
      <textarea
        className="jp-Workspace-input jp-Workspace-researchQuestion"
        value={question}
        rows={3}
        maxLength={MAX_QUESTION_CHARS}
        placeholder={trans.__(
          'A question about this folder, e.g. How is a frame checksummed?'
        )}
        aria-label={trans.__('Research question')}
        title={trans.__('Ctrl+Enter (⌘+Enter) queues the question')}
        onChange={event => setQuestion(event.target.value)}
        onKeyDown={event => {
          if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
            event.preventDefault();
            void submit();
          }
        }}
      />
      <div className="jp-Workspace-researchFields">
        <label className="jp-Workspace-researchField" htmlFor={`${id}-depth`}>
          {trans.__('Depth')}
        </label>
        <HTMLSelect
          id={`${id}-depth`}
          className="jp-Workspace-select jp-Workspace-researchDepth"
          value={depth}
          title={trans.__(
            'How far the job looks: quick reads a few passages, deep follows callers and callees further'
          )}
          onChange={event => setDepth(event.target.value as ResearchDepth)}
        >
          {RESEARCH_DEPTHS.map(value => (
            <option key={value} value={value}>
              {depthLabel(value, trans)}
            </option>
          ))}
        </HTMLSelect>
        <label className="jp-Workspace-researchField" htmlFor={`${id}-paths`}>
          {trans.__('Paths')}
        </label>
        <input
          id={`${id}-paths`}
          type="text"
          className="jp-Workspace-input jp-Workspace-researchPaths"
          value={paths}
          placeholder={trans.__('all files; e.g. src/**, docs/*.md')}
          title={trans.__(
            'Comma-separated globs relative to the served folder; empty: every file'
          )}
          onChange={event => setPaths(event.target.value)}
        />
        <label
          className="jp-Workspace-researchField"
          htmlFor={`${id}-languages`}
        >
          {trans.__('Languages')}
        </label>
        <input
          id={`${id}-languages`}
          type="text"
          className="jp-Workspace-input jp-Workspace-researchLanguages"
          value={languages}
          placeholder={trans.__('all; e.g. python, c')}
          title={trans.__('Comma-separated language names; empty: every one')}
          onChange={event => setLanguages(event.target.value)}
        />
      </div>
      <div className="jp-Workspace-researchChecks">
        <label className="jp-Workspace-researchCheck">
          <input
            type="checkbox"
            className="jp-Workspace-researchNotes"
            checked={notes}
            onChange={event => setNotes(event.target.checked)}
          />
          {trans.__('Include notes')}
        </label>
        <label
          className="jp-Workspace-researchCheck"
          title={trans.__(
            'Run again by itself when a file the report cites changes'
          )}
        >
          <input
            type="checkbox"
            className="jp-Workspace-researchStanding"
            checked={standing}
            onChange={event => setStanding(event.target.checked)}
          />
          {trans.__('Standing')}
        </label>
        <span className="jp-Workspace-toolbarSpacer" />
        <Button
          type="submit"
          className="jp-Workspace-textButton jp-mod-accept jp-Workspace-researchSubmit"
          disabled={busy || !question.trim()}
          aria-busy={busy}
          title={trans.__('Queue the question (Ctrl+Enter)')}
        >
          {busy ? trans.__('Queueing…') : trans.__('Research')}
        </Button>
      </div>
      {error && (
        <div className="jp-Workspace-researchFormError">
          <Banner kind="error" onDismiss={() => setError('')}>
            {error}
          </Banner>
        </div>
      )}
    </form>
  );
}

interface IJobItemProps {
  job: IResearchJob;
  model: ResearchModel;
  actions: IResearchActions;
  attempt: (action: () => Promise<void>) => Promise<void>;
}

function JobItem(props: IJobItemProps): JSX.Element {
  const { job, model, actions, attempt } = props;
  const trans = useTranslation();
  const busy = model.isBusy(job.id);
  const finished = isFinished(job);
  const usage = usageText(job, trans);
  const progress = Math.max(0, Math.min(1, job.progress ?? 0));
  const scope = scopeText(job, trans);
  return (
    <li
      className="jp-Workspace-researchJob"
      data-id={job.id}
      data-status={job.status}
      data-step={job.step ?? undefined}
      aria-label={trans.__(
        'Research job %1: %2, %3',
        job.id,
        statusLabel(job.status, trans),
        job.question
      )}
    >
      <div className="jp-Workspace-researchJobHeader">
        <span className="jp-Workspace-researchStatus" data-status={job.status}>
          {statusLabel(job.status, trans)}
        </span>
        <span className="jp-Workspace-researchDepthBadge">
          {depthLabel(job.depth, trans)}
        </span>
        {job.mode === 'retrieval' && (
          <span
            className="jp-Workspace-researchMode"
            title={trans.__(
              'No language model answered: the report lists the passages search found, without a written answer'
            )}
          >
            {trans.__('retrieval only')}
          </span>
        )}
        {job.standing && (
          <span
            className="jp-Workspace-researchStandingBadge"
            title={trans.__('Runs again when a cited file changes')}
          >
            {trans.__('standing')}
          </span>
        )}
        <span className="jp-Workspace-toolbarSpacer" />
        <span
          className="jp-Workspace-researchWhen"
          title={Time.format(job.created)}
        >
          {Time.formatHuman(job.created)}
        </span>
      </div>
      <div className="jp-Workspace-researchJobQuestion" title={job.question}>
        {job.question}
      </div>
      {scope && <div className="jp-Workspace-researchScope">{scope}</div>}
      {!finished && (
        <div
          className="jp-Workspace-researchProgress"
          role="progressbar"
          aria-label={trans.__('Progress of job %1', job.id)}
          aria-valuemin={0}
          aria-valuemax={100}
          aria-valuenow={Math.round(progress * 100)}
        >
          <div
            className="jp-Workspace-researchProgressBar"
            style={{ width: `${Math.round(progress * 100)}%` }}
          />
        </div>
      )}
      <StepList job={job} />
      {job.detail && job.status !== 'failed' && (
        <div className="jp-Workspace-researchDetail" title={job.detail}>
          {job.detail}
        </div>
      )}
      {job.status === 'failed' && job.error && (
        <div className="jp-Workspace-researchError" role="alert">
          {job.error}
        </div>
      )}
      {usage && <div className="jp-Workspace-researchUsage">{usage}</div>}
      {job.sources_changed && finished && (
        <div className="jp-Workspace-researchChanged">
          <span
            className="jp-Workspace-researchChangedBadge"
            title={trans.__(
              'A file the report read has changed since it was written'
            )}
          >
            {trans.__('sources changed')}
          </span>
          <Button
            type="button"
            className="jp-Workspace-linkButton jp-Workspace-researchChangedRerun"
            disabled={busy}
            onClick={() => void model.rerun(job.id)}
          >
            {trans.__('Re-run')}
          </Button>
        </div>
      )}
      <div className="jp-Workspace-researchActions">
        {job.note_id !== null && (
          <Button
            type="button"
            className="jp-Workspace-textButton jp-mod-accept jp-Workspace-researchOpenNote"
            title={trans.__('Open the report in the Notes panel')}
            onClick={() =>
              void attempt(() => actions.openNote(job.note_id as number))
            }
          >
            {trans.__('Open note')}
          </Button>
        )}
        {!finished ? (
          <Button
            type="button"
            className="jp-Workspace-textButton jp-Workspace-researchCancel"
            disabled={busy}
            aria-busy={busy}
            title={trans.__('Cancel job %1', job.id)}
            onClick={() => void model.cancel(job.id)}
          >
            {trans.__('Cancel')}
          </Button>
        ) : (
          <Button
            type="button"
            className="jp-Workspace-textButton jp-Workspace-researchRerun"
            disabled={busy}
            title={trans.__(
              'Run the job again; its note is updated with the new report'
            )}
            onClick={() => void model.rerun(job.id)}
          >
            {trans.__('Re-run')}
          </Button>
        )}
        <Button
          type="button"
          className="jp-Workspace-textButton jp-Workspace-researchStandingToggle"
          aria-pressed={job.standing}
          disabled={busy}
          title={
            job.standing
              ? trans.__('Stop re-running this job when its sources change')
              : trans.__('Re-run this job by itself when its sources change')
          }
          onClick={() => void model.setStanding(job.id, !job.standing)}
        >
          {job.standing ? trans.__('Standing: on') : trans.__('Standing: off')}
        </Button>
        <Button
          type="button"
          className="jp-Workspace-textButton jp-Workspace-researchDelete"
          disabled={busy}
          title={trans.__('Delete job %1 (its note stays)', job.id)}
          onClick={() =>
            void attempt(async () => {
              if (await confirmDelete(job, trans)) {
                await model.delete(job.id);
              }
            })
          }
        >
          {trans.__('Delete')}
        </Button>
      </div>
    </li>
  );
}

/** The steps of the job's run in order: pending, running, done or failed. */
function StepList(props: { job: IResearchJob }): JSX.Element {
  const { job } = props;
  const trans = useTranslation();
  const byName = new Map<string, IResearchJobStep>(
    (job.steps ?? []).map(step => [step.name, step])
  );
  return (
    <ol
      className="jp-Workspace-researchSteps"
      aria-label={trans.__('Steps of job %1', job.id)}
    >
      {RESEARCH_STEPS.map(name => {
        const step = byName.get(name);
        const current = job.step === name && !isFinished(job);
        const status = current ? 'running' : (step?.status ?? 'pending');
        return (
          <li
            key={name}
            className="jp-Workspace-researchStep"
            data-step={name}
            data-status={status}
            aria-current={current ? 'step' : undefined}
            title={
              step?.detail
                ? `${stepLabel(name, trans)}: ${step.detail}`
                : undefined
            }
          >
            {stepLabel(name, trans)}
          </li>
        );
      })}
    </ol>
  );
}

/** The scope as one line; empty for the whole folder with notes. */
function scopeText(job: IResearchJob, trans: TranslationBundle): string {
  const scope = job.scope ?? { paths: [], languages: [], notes: true };
  const parts: string[] = [];
  if (scope.paths?.length) {
    parts.push(scope.paths.join(', '));
  }
  if (scope.languages?.length) {
    parts.push(scope.languages.join(', '));
  }
  if (scope.notes === false) {
    parts.push(trans.__('no notes'));
  }
  return parts.length ? trans.__('Scope: %1', parts.join(' · ')) : '';
}

async function confirmDelete(
  job: IResearchJob,
  trans: TranslationBundle
): Promise<boolean> {
  const result = await showDialog({
    title: trans.__('Delete research job?'),
    body: trans.__(
      'Delete the job “%1”? Its note stays in the Notes panel.',
      job.question.length > 120
        ? `${job.question.slice(0, 119)}…`
        : job.question
    ),
    buttons: [
      Dialog.cancelButton(),
      Dialog.warnButton({ label: trans.__('Delete') })
    ]
  });
  return result.button.accept;
}

/** The Research panel widget for the left sidebar. */
export class ResearchPanel extends ReactWidget {
  constructor(private _props: IResearchViewProps) {
    super();
    this.id = RESEARCH_ID;
    this.addClass('jp-Workspace-research');
    this.title.icon = researchIcon;
    this.title.caption = _props.trans.__('Workspace Research');
  }

  /** Put the focus in the question field. */
  async focusFirst(): Promise<void> {
    await afterPendingActivation();
    this.node
      .querySelector<HTMLTextAreaElement>('.jp-Workspace-researchQuestion')
      ?.focus();
  }

  render(): JSX.Element {
    return translated(this._props.trans, <ResearchView {...this._props} />);
  }
}
