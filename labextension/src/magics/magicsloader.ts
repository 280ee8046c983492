/**
 * Load the `%workspace` magics into every Python kernel of a notebook or a
 * console, so `%workspace search ...` works without `%load_ext` first.
 *
 * `%load_ext jupyter_workspace` runs silently once per kernel, and again after
 * a restart. A kernel whose environment lacks jupyter_workspace answers with
 * an error nobody sees. Switched off with the `autoLoadMagics` setting.
 */
import {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ISessionContext } from '@jupyterlab/apputils';
import { IChangedArgs } from '@jupyterlab/coreutils';
import { IConsoleTracker } from '@jupyterlab/console';
import { INotebookTracker } from '@jupyterlab/notebook';
import { Kernel } from '@jupyterlab/services';
import { ISettingRegistry } from '@jupyterlab/settingregistry';

import { PLUGIN_ID } from '../common/client';

const LOAD_MAGICS = '%load_ext jupyter_workspace';

/** A kernel's status when the kernel has lost its state. */
const RESTARTING: ReadonlySet<Kernel.Status> = new Set([
  'restarting',
  'autorestarting'
]);

/** Loads the magics into the kernels of the session contexts it watches. */
export class MagicsLoader {
  /** Whether kernels get the magics; switching it on loads them at once. */
  get enabled(): boolean {
    return this._enabled;
  }
  set enabled(value: boolean) {
    if (value === this._enabled) {
      return;
    }
    this._enabled = value;
    if (value) {
      for (const context of this._contexts) {
        this._load(context.session?.kernel);
      }
    }
  }

  /** Watch a notebook's or console's session, until it is disposed. */
  watch(context: ISessionContext): void {
    if (this._contexts.has(context) || context.isDisposed) {
      return;
    }
    this._contexts.add(context);
    context.kernelChanged.connect(this._onKernelChanged, this);
    context.statusChanged.connect(this._onStatusChanged, this);
    context.disposed.connect(this._onDisposed, this);
    this._load(context.session?.kernel);
  }

  private _onKernelChanged(
    _: ISessionContext,
    change: IChangedArgs<Kernel.IKernelConnection | null>
  ): void {
    this._load(change.newValue);
  }

  private _onStatusChanged(
    context: ISessionContext,
    status: Kernel.Status
  ): void {
    const kernel = context.session?.kernel;
    if (!kernel) {
      return;
    }
    if (!RESTARTING.has(status)) {
      this._restarting.delete(kernel.id);
      return;
    }
    // The session context says so before it asks the kernel, and then
    // forwards the kernel's own status: one load per restart.
    if (!this._restarting.has(kernel.id)) {
      this._restarting.add(kernel.id);
      this._loaded.delete(kernel.id);
      this._load(kernel);
    }
  }

  private _onDisposed(context: ISessionContext): void {
    this._contexts.delete(context);
  }

  /** Load the magics into `kernel` unless it has them (or is no Python kernel). */
  private _load(kernel: Kernel.IKernelConnection | null | undefined): void {
    if (!this._enabled || !kernel || this._loaded.has(kernel.id)) {
      return;
    }
    this._loaded.add(kernel.id);
    void loadMagics(kernel).catch(() => {
      // The kernel died or restarted meanwhile: a restart loads them again.
    });
  }

  private _enabled = false;
  private readonly _contexts = new Set<ISessionContext>();
  /** The ids of the kernels that have the magics (or are no Python kernels). */
  private readonly _loaded = new Set<string>();
  /** The ids of the kernels between a restart's start and their next status. */
  private readonly _restarting = new Set<string>();
}

/**
 * Run `%load_ext jupyter_workspace` in a Python kernel, silently.
 *
 * Always asynchronous: a restart's status signal comes before the connection
 * clears its queue of messages for the old kernel, and this request must wait
 * in the new queue, ahead of the cells run after the restart.
 */
async function loadMagics(kernel: Kernel.IKernelConnection): Promise<void> {
  if (!(await isPython(kernel)) || kernel.isDisposed) {
    return;
  }
  await kernel.requestExecute({
    code: LOAD_MAGICS,
    silent: true,
    store_history: false,
    // A failure (no jupyter_workspace there) must not abort the cells the
    // user queued meanwhile.
    stop_on_error: false
  }).done;
}

/** Whether a kernel runs Python: its kernel spec's language, else its kernel_info's. */
async function isPython(kernel: Kernel.IKernelConnection): Promise<boolean> {
  const spec = await kernel.spec;
  const language =
    spec?.language || (await kernel.info).language_info?.name || '';
  return language.toLowerCase() === 'python';
}

export const magicsLoaderPlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyter-workspace:magics-loader',
  description:
    'Loads the %workspace magics into the Python kernels of notebooks and consoles.',
  autoStart: true,
  optional: [INotebookTracker, IConsoleTracker, ISettingRegistry],
  activate: (
    _: JupyterFrontEnd,
    notebooks: INotebookTracker | null,
    consoles: IConsoleTracker | null,
    settingRegistry: ISettingRegistry | null
  ): void => {
    const loader = new MagicsLoader();
    notebooks?.forEach(panel => loader.watch(panel.sessionContext));
    notebooks?.widgetAdded.connect((_, panel) =>
      loader.watch(panel.sessionContext)
    );
    consoles?.forEach(panel => loader.watch(panel.sessionContext));
    consoles?.widgetAdded.connect((_, panel) =>
      loader.watch(panel.sessionContext)
    );

    if (!settingRegistry) {
      loader.enabled = true;
      return;
    }
    settingRegistry
      .load(PLUGIN_ID)
      .then(settings => {
        const apply = () => {
          loader.enabled = settings.get('autoLoadMagics').composite !== false;
        };
        apply();
        settings.changed.connect(apply);
      })
      .catch(reason => {
        console.warn('jupyter-workspace: cannot load settings', reason);
        loader.enabled = true; // the setting's default
      });
  }
};
