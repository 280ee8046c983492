/**
 * A reviewed diff: a file against what a chat answer's code block proposes,
 * one hunk at a time (Accept / Reject), written through the Jupyter contents
 * API only if the file is still what the diff was made from — an edit made
 * meanwhile (on disk or unsaved in an open editor) is never overwritten.
 */
import { ReactWidget } from '@jupyterlab/apputils';
import { Contents } from '@jupyterlab/services';
import { TranslationBundle } from '@jupyterlab/translation';
import { Button } from '@jupyterlab/ui-components';
import * as React from 'react';

import { errorMessage } from '../common/request';
import { translated, useTranslation } from '../common/translation';
import { IHunk, applyHunks, hunks, splitLines } from './linediff';
import { IProposal, propose } from './proposal';

/** What the view needs from JupyterLab to read and write the file. */
export interface IFileAccess {
  contents: Contents.IManager;
  /** Whether an editor holds unsaved changes of the file. */
  hasUnsavedChanges(path: string): boolean;
  /** Show the written text in the file's open editors. */
  reloadOpen(path: string): void;
}

/** The file's text, or `null` when it does not exist. */
export async function readText(
  contents: Contents.IManager,
  path: string,
  trans: TranslationBundle
): Promise<string | null> {
  let model: Contents.IModel;
  try {
    model = await contents.get(path, {
      content: true,
      format: 'text',
      type: 'file'
    });
  } catch (error) {
    const status = (error as { response?: { status?: number } }).response
      ?.status;
    if (status === 404) {
      return null;
    }
    throw error;
  }
  if (model.type !== 'file' || typeof model.content !== 'string') {
    throw new Error(trans.__('%1 is not a text file', path));
  }
  return model.content;
}

interface IDiffViewProps {
  path: string;
  code: string;
  /** The file's text when the view opened; `null`: a new file. */
  original: string | null;
  files: IFileAccess;
  onClose: () => void;
}

type Status =
  | { state: 'review' }
  | { state: 'writing' }
  | { state: 'written'; accepted: number; total: number }
  | { state: 'changed' }
  | { state: 'error'; message: string };

function DiffView(props: IDiffViewProps): JSX.Element {
  const { path, code, files, onClose } = props;
  const trans = useTranslation();
  const [original, setOriginal] = React.useState(props.original);
  const proposal: IProposal = React.useMemo(
    () => propose(original ?? '', code),
    [original, code]
  );
  const oldLines = React.useMemo(() => splitLines(original ?? ''), [original]);
  const parts: IHunk[] = React.useMemo(
    () => hunks(oldLines, splitLines(proposal.text)),
    [oldLines, proposal]
  );
  const [accepted, setAccepted] = React.useState<boolean[]>(() =>
    parts.map(() => true)
  );
  const [status, setStatus] = React.useState<Status>({ state: 'review' });
  React.useEffect(() => setAccepted(parts.map(() => true)), [parts]);

  const decide = (index: number, accept: boolean) =>
    setAccepted(current => current.map((v, i) => (i === index ? accept : v)));
  const count = accepted.filter(Boolean).length;

  const write = async () => {
    setStatus({ state: 'writing' });
    try {
      const now = await readText(files.contents, path, trans);
      if (now !== original || files.hasUnsavedChanges(path)) {
        setStatus({ state: 'changed' });
        return;
      }
      const lines = applyHunks(oldLines, parts, accepted);
      const newline =
        original === null || original.endsWith('\n') || original === ''
          ? '\n'
          : '';
      await files.contents.save(path, {
        type: 'file',
        format: 'text',
        content: lines.length ? lines.join('\n') + newline : ''
      });
      files.reloadOpen(path);
      setStatus({ state: 'written', accepted: count, total: parts.length });
    } catch (error) {
      setStatus({ state: 'error', message: errorMessage(error) });
    }
  };

  const reviewAgain = async () => {
    try {
      setOriginal(await readText(files.contents, path, trans));
      setStatus({ state: 'review' });
    } catch (error) {
      setStatus({ state: 'error', message: errorMessage(error) });
    }
  };

  const done = status.state === 'written';
  return (
    <div className="jp-Workspace-diff" data-state={status.state}>
      <div className="jp-Workspace-diffHeader">
        <h2 className="jp-Workspace-diffTitle">
          {trans.__('Apply to %1', path)}
        </h2>
        <p className="jp-Workspace-diffScope">
          {original === null
            ? trans.__('A new file: the code block is its text.')
            : proposal.replaces
              ? trans.__(
                  'The code block replaces lines %1–%2 (the definition it begins with).',
                  proposal.replaces.start,
                  proposal.replaces.end
                )
              : trans.__('The code block replaces the whole file.')}
        </p>
      </div>
      <div className="jp-Workspace-diffActions">
        <Button
          type="button"
          className="jp-Workspace-textButton"
          onClick={() => setAccepted(parts.map(() => true))}
          disabled={done || parts.length === 0}
        >
          {trans.__('Accept all')}
        </Button>
        <Button
          type="button"
          className="jp-Workspace-textButton"
          onClick={() => setAccepted(parts.map(() => false))}
          disabled={done || parts.length === 0}
        >
          {trans.__('Reject all')}
        </Button>
        <Button
          type="button"
          className="jp-Workspace-textButton jp-mod-accept jp-Workspace-diffWrite"
          onClick={() => void write()}
          disabled={done || count === 0 || status.state === 'writing'}
        >
          {trans._n(
            'Write %1 change to the file',
            'Write %1 changes to the file',
            count
          )}
        </Button>
        <Button
          type="button"
          className="jp-Workspace-textButton jp-Workspace-diffClose"
          onClick={onClose}
        >
          {done ? trans.__('Close') : trans.__('Cancel')}
        </Button>
      </div>
      <div className="jp-Workspace-diffStatus" role="status" aria-live="polite">
        {status.state === 'written' &&
          trans.__(
            'Written: %1 of %2 changes applied to %3.',
            status.accepted,
            status.total,
            path
          )}
        {status.state === 'changed' && (
          <>
            {trans.__(
              '%1 changed since this diff was made (or has unsaved edits in an editor): nothing was written.',
              path
            )}{' '}
            <Button
              type="button"
              className="jp-Workspace-textButton jp-Workspace-diffReload"
              onClick={() => void reviewAgain()}
            >
              {trans.__('Review again')}
            </Button>
          </>
        )}
        {status.state === 'error' &&
          trans.__('Cannot write %1: %2', path, status.message)}
      </div>
      {parts.length === 0 ? (
        <p className="jp-Workspace-diffSame">
          {trans.__('The file already holds this code: nothing to change.')}
        </p>
      ) : (
        parts.map((hunk, i) => (
          <HunkView
            key={i}
            hunk={hunk}
            index={i}
            total={parts.length}
            accepted={accepted[i] ?? true}
            disabled={done}
            onDecide={accept => decide(i, accept)}
          />
        ))
      )}
    </div>
  );
}

interface IHunkViewProps {
  hunk: IHunk;
  index: number;
  total: number;
  accepted: boolean;
  disabled: boolean;
  onDecide: (accept: boolean) => void;
}

function HunkView(props: IHunkViewProps): JSX.Element {
  const { hunk, index, total, accepted, disabled, onDecide } = props;
  const trans = useTranslation();
  const label = trans.__(
    'Change %1 of %2, at line %3',
    index + 1,
    total,
    hunk.oldStart + 1
  );
  return (
    <section
      className="jp-Workspace-diffHunk"
      data-decision={accepted ? 'accepted' : 'rejected'}
      aria-label={label}
    >
      <div className="jp-Workspace-diffHunkHeader">
        <span className="jp-Workspace-diffHunkRange">
          {`@@ -${hunk.oldStart + 1},${hunk.oldLines} +${hunk.newStart + 1},${hunk.newLines} @@`}
        </span>
        <Button
          type="button"
          className="jp-Workspace-textButton jp-Workspace-diffAccept"
          aria-pressed={accepted}
          aria-label={trans.__('Accept change %1', index + 1)}
          disabled={disabled}
          onClick={() => onDecide(true)}
        >
          {trans.__('Accept')}
        </Button>
        <Button
          type="button"
          className="jp-Workspace-textButton jp-Workspace-diffReject"
          aria-pressed={!accepted}
          aria-label={trans.__('Reject change %1', index + 1)}
          disabled={disabled}
          onClick={() => onDecide(false)}
        >
          {trans.__('Reject')}
        </Button>
      </div>
      <HunkLines hunk={hunk} />
    </section>
  );
}

/** A hunk's lines, marked kept, removed or added (read-only). */
export function HunkLines(props: { hunk: IHunk }): JSX.Element {
  return (
    <pre className="jp-Workspace-diffLines">
      {props.hunk.lines.map((line, i) => (
        <div
          key={i}
          className="jp-Workspace-diffLine"
          data-kind={
            line.kind === '+' ? 'added' : line.kind === '-' ? 'removed' : 'kept'
          }
        >
          <span className="jp-Workspace-diffMark" aria-hidden="true">
            {line.kind}
          </span>
          {line.text}
        </div>
      ))}
    </pre>
  );
}

/** The diff, for a main-area widget (Cancel / Close close that widget). */
export class DiffPanel extends ReactWidget {
  constructor(
    private readonly _props: Omit<IDiffViewProps, 'onClose'>,
    private readonly _trans: TranslationBundle
  ) {
    super();
    this.addClass('jp-Workspace-diffPanel');
  }

  protected render(): JSX.Element {
    return translated(
      this._trans,
      <DiffView
        {...this._props}
        onClose={() => (this.parent ?? this).close()}
      />
    );
  }
}
