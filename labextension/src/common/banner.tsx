import { Button, closeIcon } from '@jupyterlab/ui-components';
import * as React from 'react';

import { useTranslation } from './translation';

export interface IBannerProps {
  kind: 'error' | 'warning' | 'info';
  children: React.ReactNode;
  /** Shows a close button when given. */
  onDismiss?: () => void;
}

/** A message across the top of a panel: a failed request, a conflict. */
export function Banner(props: IBannerProps): JSX.Element {
  const { kind, children, onDismiss } = props;
  const trans = useTranslation();
  return (
    <div
      className={`jp-Workspace-banner jp-mod-${kind}`}
      role={kind === 'info' ? 'status' : 'alert'}
    >
      <div className="jp-Workspace-bannerText">{children}</div>
      {onDismiss && (
        <Button
          type="button"
          className="jp-Workspace-iconButton"
          onClick={onDismiss}
          aria-label={trans.__('Dismiss message')}
          title={trans.__('Dismiss')}
        >
          <closeIcon.react tag="span" elementSize="small" />
        </Button>
      )}
    </div>
  );
}

export interface IErrorBannerProps {
  /** Nothing shows while it is empty. */
  message: string;
  onDismiss: () => void;
}

/** A failed request's or action's message, until dismissed. */
export function ErrorBanner(props: IErrorBannerProps): JSX.Element | null {
  const { message, onDismiss } = props;
  return message ? (
    <Banner kind="error" onDismiss={onDismiss}>
      {message}
    </Banner>
  ) : null;
}
