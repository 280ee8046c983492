/**
 * The event socket's state, shown in every panel's header while live updates
 * are not flowing.
 */
import * as React from 'react';

import { ConnectionState, WorkspaceEvents } from './events';
import { useRerenderOn } from './hooks';
import { useTranslation } from './translation';

/** The socket's state, shown while live updates are not flowing. */
export function ConnectionStatus(props: {
  events: WorkspaceEvents;
}): JSX.Element {
  const { events } = props;
  const trans = useTranslation();
  useRerenderOn(events.stateChanged);
  const state: ConnectionState = events.state;
  const text =
    state === 'open'
      ? ''
      : state === 'connecting'
        ? trans.__('Connecting to live updates…')
        : trans.__('Live updates paused; reconnecting…');
  return (
    <div
      className="jp-Workspace-connection"
      data-state={state}
      role="status"
      aria-live="polite"
    >
      {text}
    </div>
  );
}
