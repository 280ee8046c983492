/**
 * How a run's status and duration read: a symbol and words (never colour
 * alone), in the Pipelines panel and in a run's output view.
 */
import * as React from 'react';

import { IRun, RunStatus } from './pipelinesapi';

const STATUS: Record<RunStatus, { symbol: string; label: string }> = {
  running: { symbol: '⟳', label: 'Running' },
  passed: { symbol: '✓', label: 'Passed' },
  failed: { symbol: '✗', label: 'Failed' },
  stopped: { symbol: '■', label: 'Stopped' },
  timeout: { symbol: '⧗', label: 'Timed out' },
  // U+FE0E: the text form of the sign, not an emoji.
  error: { symbol: '⚠\uFE0E', label: 'Error' },
  interrupted: { symbol: '↯', label: 'Interrupted' }
};

/** The words for a status: `Passed`, `Timed out`, … */
export function statusLabel(status: RunStatus | 'never'): string {
  return status === 'never'
    ? 'Never run'
    : (STATUS[status]?.label ?? String(status));
}

/** A status as a symbol and its words; `never` for a pipeline not run yet. */
export function RunStatusBadge(props: {
  status: RunStatus | 'never';
}): JSX.Element {
  const { status } = props;
  const symbol = status === 'never' ? '–' : (STATUS[status]?.symbol ?? '?');
  return (
    <span className="jp-Workspace-runStatus" data-status={status}>
      <span className="jp-Workspace-runStatusSymbol" aria-hidden="true">
        {symbol}
      </span>
      <span className="jp-Workspace-runStatusLabel">{statusLabel(status)}</span>
    </span>
  );
}

/** `0.4 s`, `12 s`, `2 min 5 s`, `1 h 3 min`. */
export function formatDuration(seconds: number): string {
  if (seconds < 10) {
    return `${Math.max(seconds, 0).toFixed(1)} s`;
  }
  const whole = Math.round(seconds);
  if (whole < 60) {
    return `${whole} s`;
  }
  if (whole < 3600) {
    return `${Math.floor(whole / 60)} min ${whole % 60} s`;
  }
  return `${Math.floor(whole / 3600)} h ${Math.floor((whole % 3600) / 60)} min`;
}

/** How long a run took, or has been running so far. */
export function runDuration(run: IRun): string {
  if (run.duration !== null) {
    return formatDuration(run.duration);
  }
  if (run.status === 'running') {
    return formatDuration((Date.now() - Date.parse(run.started)) / 1000);
  }
  return '';
}

/** `3 failures`, `1 failure`. */
export function failureCount(run: IRun): string {
  const n = run.failures.length;
  return `${n} ${n === 1 ? 'failure' : 'failures'}`;
}
