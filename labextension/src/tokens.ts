/**
 * What jupyter-workspace provides to its own feature plugins and to other
 * extensions: one connection to the workspace coordinator per tab.
 */
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { Token } from '@lumino/coreutils';

import { ISource } from './common/api';
import { WorkspaceEvents } from './common/events';
import { requestAPI } from './common/request';
import { SidecarModel } from './sidecar/sidecarmodel';

/** The workspace coordinator as the browser sees it. */
export interface IWorkspaceClient {
  /** The tab's one event WebSocket (`note.created`, `chat.token`, ...). */
  readonly events: WorkspaceEvents;

  /** The AI sidecar's state, kept current by `sidecar.state` events. */
  readonly sidecar: SidecarModel;

  /**
   * Call the REST API below `workspace/api` with the server's credentials;
   * failures reject with a `WorkspaceRequestError` carrying the server's message.
   */
  readonly request: typeof requestAPI;

  /**
   * Open a search hit, citation or task source: a file at its line, a note
   * (`@notes/<id>`) in the Workspace sidebar.
   *
   * @throws Error with a message for the user when it cannot be opened
   */
  openSource(source: ISource): Promise<void>;

  /**
   * Opens a note by id (`preview`: rendered, e.g. a research report with its
   * citation links); set by the plugin of the Workspace sidebar.
   */
  noteOpener:
    ((id: number, options?: { preview?: boolean }) => Promise<void>) | null;

  /**
   * Call `apply` with the Workspace settings once they are loaded and after
   * every change; never without a setting registry.
   */
  watchSettings(apply: (settings: ISettingRegistry.ISettings) => void): void;
}

export const IWorkspaceClient = new Token<IWorkspaceClient>(
  'jupyter-workspace:IWorkspaceClient',
  'The workspace coordinator: REST requests, the event socket, the AI sidecar state, opening sources.'
);
