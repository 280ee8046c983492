/**
 * The core plugin: the tab's connection to the workspace coordinator, which
 * every feature plugin requires (`IWorkspaceClient`). It owns the settings of
 * jupyter-workspace (schema/plugin.json is tied to its id).
 */
import {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { IDocumentManager } from '@jupyterlab/docmanager';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { ITranslator, TranslationBundle } from '@jupyterlab/translation';

import { SidecarModel } from '../sidecar/sidecarmodel';
import { IWorkspaceClient } from '../tokens';
import { ISource } from './api';
import { WorkspaceEvents } from './events';
import { noteIdOf, openSource } from './opensource';
import {
  requestAPI,
  setRequestTranslation,
  setServerSettings
} from './request';
import { handleOpenSettingsRequests } from './settingslink';
import { handleOpenSourceRequests } from './sourcerequest';
import { loadTranslation } from './translation';

/** The core plugin's id, which the settings (schema/plugin.json) belong to. */
export const PLUGIN_ID = 'jupyter-workspace:plugin';

class WorkspaceClient implements IWorkspaceClient {
  constructor(options: {
    app: JupyterFrontEnd;
    docManager: IDocumentManager;
    settings: Promise<ISettingRegistry.ISettings | null>;
    trans: TranslationBundle;
  }) {
    this._app = options.app;
    this._trans = options.trans;
    this._docManager = options.docManager;
    this._settings = options.settings;
    this.events = new WorkspaceEvents(
      options.app.serviceManager.serverSettings
    );
    this.sidecar = new SidecarModel({ events: this.events });
  }

  readonly events: WorkspaceEvents;
  readonly sidecar: SidecarModel;
  readonly request = requestAPI;
  noteOpener:
    ((id: number, options?: { preview?: boolean }) => Promise<void>) | null =
    null;

  async openSource(source: ISource): Promise<void> {
    // Search hits and chat sources name notes as `@notes/<id>`: those open in the sidebar.
    const note = noteIdOf(source.path);
    if (note === null) {
      return openSource(this._app, this._docManager, source, this._trans);
    }
    if (!this.noteOpener) {
      throw new Error(
        this._trans.__('Notes cannot be opened: the Workspace sidebar is off.')
      );
    }
    await this.noteOpener(note);
  }

  watchSettings(apply: (settings: ISettingRegistry.ISettings) => void): void {
    void this._settings.then(settings => {
      if (settings) {
        apply(settings);
        settings.changed.connect(() => apply(settings));
      }
    });
  }

  private _app: JupyterFrontEnd;
  private _docManager: IDocumentManager;
  private _settings: Promise<ISettingRegistry.ISettings | null>;
  private _trans: TranslationBundle;
}

export const clientPlugin: JupyterFrontEndPlugin<IWorkspaceClient> = {
  id: PLUGIN_ID,
  description:
    'The connection to the workspace coordinator (REST, events, AI sidecar state) that the Workspace panels share.',
  autoStart: true,
  requires: [IDocumentManager],
  optional: [ISettingRegistry, ITranslator],
  provides: IWorkspaceClient,
  activate: (
    app: JupyterFrontEnd,
    docManager: IDocumentManager,
    settingRegistry: ISettingRegistry | null,
    translator: ITranslator | null
  ): IWorkspaceClient => {
    setServerSettings(app.serviceManager.serverSettings);
    const trans = loadTranslation(translator);
    setRequestTranslation(trans);
    const settings = settingRegistry
      ? settingRegistry.load(PLUGIN_ID).catch(reason => {
          console.warn('jupyter-workspace: cannot load settings', reason);
          return null;
        })
      : Promise.resolve(null);
    const client = new WorkspaceClient({
      app,
      docManager,
      settings,
      trans
    });
    // The links of the %workspace results tables in notebook outputs (magics/resultsview.tsx).
    handleOpenSourceRequests(document.body, source =>
      client.openSource(source)
    );
    // The 'Workspace settings' buttons of views without the app (common/settingslink.tsx).
    handleOpenSettingsRequests(document.body, app.commands);
    void client.sidecar.refresh();
    // Once every plugin's models listen: each refetches when the socket connects.
    void app.started.then(() => client.events.connect());
    return client;
  }
};
