/**
 * The Problems panel (left sidebar): the open failures of the pipelines' last
 * runs, by file, line and column. A row opens the editor there (click, Enter);
 * the arrow keys, Home and End move between rows.
 */
import { ReactWidget } from '@jupyterlab/apputils';
import { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import { afterPendingActivation } from '../common/activation';
import { ISource } from '../common/api';
import { ErrorBanner } from '../common/banner';
import { useRerenderOn } from '../common/hooks';
import { problemsIcon } from '../common/icons';
import { SourceLink } from '../common/sourcelink';
import { translated, useTranslation } from '../common/translation';
import { IProblem, ProblemsModel } from './problemsmodel';

export const PROBLEMS_ID = 'jupyter-workspace:problems';

const ROW_LINK = '.jp-Workspace-problemLink';

export interface IProblemsViewProps {
  model: ProblemsModel;
  trans: TranslationBundle;
  /** Opens a file at a line and column; rejects with a message for the user. */
  openSource: (source: ISource) => Promise<void>;
}

/** `path:line:column`, as compilers print it. */
export function formatPlace(problem: IProblem): string {
  return [problem.path, problem.line, problem.column]
    .filter(part => part !== null)
    .join(':');
}

export function ProblemsView(props: IProblemsViewProps): JSX.Element {
  const { model, openSource } = props;
  const trans = useTranslation();
  useRerenderOn(model.changed);
  const [openError, setOpenError] = React.useState('');
  const problems = model.problems;

  const open = (source: ISource): void => {
    setOpenError('');
    openSource(source).catch((error: Error) => setOpenError(error.message));
  };

  return (
    <div className="jp-Workspace-problemsRoot">
      <div className="jp-Workspace-header">
        <h2 className="jp-Workspace-heading">
          {trans.__('Problems')}
          {problems.length > 0 && (
            <span className="jp-Workspace-problemCount">
              {' '}
              {problems.length.toLocaleString()}
            </span>
          )}
        </h2>
      </div>
      {model.error && (
        <ErrorBanner
          message={model.error}
          onDismiss={() => model.dismissError()}
        />
      )}
      {openError && (
        <ErrorBanner message={openError} onDismiss={() => setOpenError('')} />
      )}
      {problems.length === 0 ? (
        <p className="jp-Workspace-empty">
          {trans.__(
            'No problems: the last run of each pipeline passed, or found nothing in the code.'
          )}
        </p>
      ) : (
        <ul
          className="jp-Workspace-problemList"
          aria-label={trans._n(
            '%1 problem',
            '%1 problems',
            problems.length,
            problems.length.toLocaleString()
          )}
          onKeyDown={moveBetweenRows}
        >
          {problems.map((problem, index) => (
            <ProblemItem
              key={`${problem.pipeline}:${formatPlace(problem)}:${index}`}
              problem={problem}
              onOpen={open}
            />
          ))}
        </ul>
      )}
    </div>
  );
}

function ProblemItem(props: {
  problem: IProblem;
  onOpen: (source: ISource) => void;
}): JSX.Element {
  const { problem, onOpen } = props;
  const trans = useTranslation();
  const severity = trans.__('Error');
  const body = (
    <>
      <span
        className="jp-Workspace-problemSeverity"
        role="img"
        aria-label={severity}
        title={severity}
      />
      <span className="jp-Workspace-problemMessage">{problem.message}</span>
      <span className="jp-Workspace-problemWhere">
        {problem.path && (
          <span className="jp-Workspace-problemPlace">
            {formatPlace(problem)}
          </span>
        )}
        <span className="jp-Workspace-problemPipeline">
          {trans.__('pipeline %1', problem.pipeline)}
        </span>
      </span>
    </>
  );
  return (
    <li
      className="jp-Workspace-problem"
      data-severity={problem.severity}
      data-kind={problem.kind}
      data-column={problem.column ?? undefined}
    >
      {problem.path ? (
        <SourceLink
          className="jp-Workspace-problemLink"
          source={{
            path: problem.path,
            line: problem.line,
            column: problem.column
          }}
          title={trans.__('Open %1 in the editor', formatPlace(problem))}
          onOpen={onOpen}
        >
          {body}
        </SourceLink>
      ) : (
        // Nothing to open (the output named no file of the workspace): still a stop for the keys.
        <div className="jp-Workspace-problemLink" tabIndex={0}>
          {body}
        </div>
      )}
    </li>
  );
}

/** Up, Down, Home and End move the focus between the rows' links. */
function moveBetweenRows(event: React.KeyboardEvent<HTMLUListElement>): void {
  const rows = Array.from(
    event.currentTarget.querySelectorAll<HTMLElement>(ROW_LINK)
  );
  const at = rows.indexOf(document.activeElement as HTMLElement);
  const next =
    event.key === 'ArrowDown'
      ? at + 1
      : event.key === 'ArrowUp'
        ? at - 1
        : event.key === 'Home'
          ? 0
          : event.key === 'End'
            ? rows.length - 1
            : null;
  if (next === null || at < 0 || !rows.length) {
    return;
  }
  event.preventDefault();
  rows[Math.max(0, Math.min(next, rows.length - 1))].focus();
}

export class ProblemsPanel extends ReactWidget {
  constructor(private _props: IProblemsViewProps) {
    super();
    this.id = PROBLEMS_ID;
    this.addClass('jp-Workspace-problems');
    this.title.icon = problemsIcon;
    this.title.caption = _props.trans.__('Problems: build and test failures');
  }

  /** Put the focus on the first problem (else the panel). */
  async focusFirst(): Promise<void> {
    await afterPendingActivation();
    const first = this.node.querySelector<HTMLElement>(ROW_LINK);
    if (first) {
      first.focus();
    } else {
      this.node.tabIndex = -1;
      this.node.focus();
    }
  }

  render(): JSX.Element {
    return translated(this._props.trans, <ProblemsView {...this._props} />);
  }
}
