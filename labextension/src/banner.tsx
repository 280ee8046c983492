import { closeIcon } from '@jupyterlab/ui-components';
import * as React from 'react';

export interface IBannerProps {
  kind: 'error' | 'warning' | 'info';
  children: React.ReactNode;
  /** Shows a close button when given. */
  onDismiss?: () => void;
}

/** A message across the top of a panel: a failed request, a conflict. */
export function Banner(props: IBannerProps): JSX.Element {
  const { kind, children, onDismiss } = props;
  return (
    <div
      className={`jp-Workspace-banner jp-mod-${kind}`}
      role={kind === 'info' ? 'status' : 'alert'}
    >
      <div className="jp-Workspace-bannerText">{children}</div>
      {onDismiss && (
        <button
          type="button"
          className="jp-Workspace-iconButton"
          onClick={onDismiss}
          aria-label="Dismiss message"
          title="Dismiss"
        >
          <closeIcon.react tag="span" elementSize="small" />
        </button>
      )}
    </div>
  );
}
