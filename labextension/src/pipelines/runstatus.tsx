/**
 * How a run's status and duration read: a symbol and words (never colour
 * alone), in the Pipelines panel and in a run's output view.
 */
import { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import { useTranslation } from '../common/translation';
import { IRun, RunStatus } from './pipelinesapi';

const SYMBOLS: Record<RunStatus, string> = {
  running: '⟳',
  passed: '✓',
  failed: '✗',
  stopped: '■',
  timeout: '⧗',
  // U+FE0E: the text form of the sign, not an emoji.
  error: '⚠\uFE0E',
  interrupted: '↯'
};

/** The words for a status: `Passed`, `Timed out`, … */
export function statusLabel(
  status: RunStatus | 'never',
  trans: TranslationBundle
): string {
  switch (status) {
    case 'never':
      return trans.__('Never run');
    case 'running':
      return trans.__('Running');
    case 'passed':
      return trans.__('Passed');
    case 'failed':
      return trans.__('Failed');
    case 'stopped':
      return trans.__('Stopped');
    case 'timeout':
      return trans.__('Timed out');
    case 'error':
      return trans.__('Error');
    case 'interrupted':
      return trans.__('Interrupted');
    default:
      // A status newer than this page.
      return String(status);
  }
}

/** A status as a symbol and its words; `never` for a pipeline not run yet. */
export function RunStatusBadge(props: {
  status: RunStatus | 'never';
}): JSX.Element {
  const { status } = props;
  const trans = useTranslation();
  const symbol = status === 'never' ? '–' : (SYMBOLS[status] ?? '?');
  return (
    <span className="jp-Workspace-runStatus" data-status={status}>
      <span className="jp-Workspace-runStatusSymbol" aria-hidden="true">
        {symbol}
      </span>
      <span className="jp-Workspace-runStatusLabel">
        {statusLabel(status, trans)}
      </span>
    </span>
  );
}

/** `0.4 s`, `12 s`, `2 min 5 s`, `1 h 3 min`. */
export function formatDuration(
  seconds: number,
  trans: TranslationBundle
): string {
  if (seconds < 10) {
    return trans.__('%1 s', Math.max(seconds, 0).toFixed(1));
  }
  const whole = Math.round(seconds);
  if (whole < 60) {
    return trans.__('%1 s', whole);
  }
  if (whole < 3600) {
    return trans.__('%1 min %2 s', Math.floor(whole / 60), whole % 60);
  }
  return trans.__(
    '%1 h %2 min',
    Math.floor(whole / 3600),
    Math.floor((whole % 3600) / 60)
  );
}

/** How long a run took, or has been running so far. */
export function runDuration(run: IRun, trans: TranslationBundle): string {
  if (run.duration !== null) {
    return formatDuration(run.duration, trans);
  }
  if (run.status === 'running') {
    return formatDuration((Date.now() - Date.parse(run.started)) / 1000, trans);
  }
  return '';
}

/** `3 failures`, `1 failure`. */
export function failureCount(run: IRun, trans: TranslationBundle): string {
  return trans._n('%1 failure', '%1 failures', run.failures.length);
}
