/**
 * A button that opens Settings → Workspace from a view that has no handle on
 * the application's commands (a chat message, a notebook output).
 *
 * It asks the page with a DOM event, as `sourcerequest.ts` does for sources,
 * and the core plugin runs JupyterLab's `settingeditor:open`: no command
 * linker attribute in the answers' DOM, where any one would be a way for
 * hostile text to run commands (the XSS tests check there is none).
 */
import type { JupyterFrontEnd } from '@jupyterlab/application';
import { Button } from '@jupyterlab/ui-components';
import { DisposableDelegate, IDisposable } from '@lumino/disposable';
import * as React from 'react';

import { useTranslation } from './translation';

const OPEN_SETTINGS_EVENT = 'jupyter-workspace:open-settings';

/** JupyterLab's command that opens the settings editor. */
const OPEN_SETTINGS = 'settingeditor:open';

/**
 * The settings editor's filter that shows this extension's settings: the
 * title of schema/plugin.json (the editor filters by titles, not plugin ids).
 */
export const SETTINGS_QUERY = 'Workspace';

/** Ask the page to open Settings → Workspace; false when nothing on it can. */
export function requestOpenSettings(from: Element): boolean {
  const request = { handled: false };
  from.dispatchEvent(
    new CustomEvent(OPEN_SETTINGS_EVENT, { detail: request, bubbles: true })
  );
  return request.handled;
}

/** Open the settings that nodes under `target` ask for, until disposed. */
export function handleOpenSettingsRequests(
  target: EventTarget,
  commands: JupyterFrontEnd['commands']
): IDisposable {
  const listener = (event: Event) => {
    const request = (event as CustomEvent<{ handled: boolean }>).detail;
    if (request && !request.handled && commands.hasCommand(OPEN_SETTINGS)) {
      request.handled = true;
      void commands.execute(OPEN_SETTINGS, { query: SETTINGS_QUERY });
    }
  };
  target.addEventListener(OPEN_SETTINGS_EVENT, listener);
  return new DisposableDelegate(() => {
    target.removeEventListener(OPEN_SETTINGS_EVENT, listener);
  });
}

/** "Workspace settings": opens Settings → Workspace. */
export function OpenSettingsButton(props: {
  children?: React.ReactNode;
}): JSX.Element {
  const trans = useTranslation();
  return (
    <Button
      type="button"
      className="jp-Workspace-openSettings jp-Workspace-textButton"
      title={trans.__(
        'Open Settings → Workspace (the chat model and the LLM server address)'
      )}
      onClick={event => requestOpenSettings(event.currentTarget)}
    >
      {props.children ?? trans.__('Workspace settings')}
    </Button>
  );
}
