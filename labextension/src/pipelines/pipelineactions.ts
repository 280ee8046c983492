/**
 * What the Pipelines panel, its commands and its notifications do in
 * JupyterLab: start a run and show its terminal, open a run's output view,
 * open `workspace.toml` (made from the example when missing).
 */
import { JupyterFrontEnd } from '@jupyterlab/application';
import { MainAreaWidget, WidgetTracker } from '@jupyterlab/apputils';
import { IDocumentManager } from '@jupyterlab/docmanager';
import { ServerConnection, TerminalAPI } from '@jupyterlab/services';
import { TranslationBundle } from '@jupyterlab/translation';
import { Widget } from '@lumino/widgets';

import { ISource } from '../common/api';
import { WorkspaceEvents } from '../common/events';
import { pipelinesIcon } from '../common/icons';
import { openSource } from '../common/opensource';
import { errorMessage } from '../common/request';
import { CONFIG_EXAMPLE, CONFIG_PATH, IRun } from './pipelinesapi';
import { PipelinesModel } from './pipelinesmodel';
import { IPipelinesActions } from './pipelinesview';
import { RunModel } from './runmodel';
import { RunPanel, createRunWidget } from './runview';

/** The command JupyterLab opens a terminal by name with. */
const TERMINAL_OPEN = 'terminal:open';

/**
 * How far apart a run's end and its terminal closing may be for the closing
 * to count as the run's (JupyterLab closes a terminal when its process ends).
 */
const TERMINAL_CLOSE_WINDOW_MS = 5000;

/** A run's terminal this tab opened, until the run ends. */
interface IOpenTerminal {
  widget: Widget;
  closedAt: number | null;
  endedAt: number | null;
  /** Whether it was on screen when it closed. */
  wasVisible: boolean;
}

export class PipelineActions implements IPipelinesActions {
  constructor(options: PipelineActions.IOptions) {
    this._app = options.app;
    this._docManager = options.docManager;
    this._events = options.events;
    this._trans = options.trans;
    this._model = options.model;
    this._openSource = options.openSource;
    this.tracker = new WidgetTracker<MainAreaWidget<RunPanel>>({
      namespace: 'jupyter-workspace-run'
    });
    this._model.runFinished.connect((_, run) => this._onRunFinished(run));
  }

  /** The open run output views (for the layout restorer). */
  readonly tracker: WidgetTracker<MainAreaWidget<RunPanel>>;

  /** Show a run's terminal as soon as it starts (the `openTerminalOnRun` setting). */
  openTerminalOnRun = true;

  async run(name: string): Promise<void> {
    const run = await this._model.run(name);
    if (run && run.status === 'running' && this.openTerminalOnRun) {
      await this.showTerminal(run);
    }
  }

  async stop(id: number): Promise<void> {
    await this._model.stop(id);
  }

  /**
   * Open JupyterLab's terminal of a running run: its output so far, then live
   * output and input. A run that has ended meanwhile opens its output view:
   * `terminal:open` would start a new shell under the ended run's name.
   */
  async showTerminal(run: IRun): Promise<void> {
    const name = run.terminal;
    if (!name || !(await this._isTerminalRunning(run, name))) {
      await this.openRun(run.id);
      return;
    }
    if (!this._app.commands.hasCommand(TERMINAL_OPEN)) {
      throw new Error(
        this._trans.__(
          "JupyterLab's terminal is not available here: open the run's output instead."
        )
      );
    }
    await this._app.commands.execute(TERMINAL_OPEN, { name });
    const widget = this._findTerminal(name);
    if (widget) {
      this._watchTerminal(run, widget);
    }
  }

  /** Open (or show again) a run's output view. */
  async openRun(
    id: number,
    options: { activate?: boolean } = {}
  ): Promise<void> {
    const activate = options.activate ?? true;
    const existing = this.tracker.find(
      widget => widget.content.model.id === id
    );
    if (existing) {
      if (activate) {
        this._app.shell.activateById(existing.id);
      }
      return;
    }
    const model = new RunModel({
      id,
      events: this._events,
      trans: this._trans
    });
    const widget = createRunWidget(
      {
        model,
        trans: this._trans,
        actions: {
          showTerminal: run => this.showTerminal(run),
          runAgain: name => this.run(name),
          openSource: this._openSource
        }
      },
      pipelinesIcon
    );
    this._app.shell.add(widget, 'main', { activate });
    await this.tracker.add(widget);
    await model.refresh();
  }

  /**
   * Open `workspace.toml` in the editor, at `line` when given. A missing file
   * is created from the commented example first; an existing one is never
   * written.
   */
  async editConfig(line?: number | null): Promise<void> {
    const contents = this._docManager.services.contents;
    if (!(await this._configExists())) {
      await contents.save(CONFIG_PATH, {
        type: 'file',
        format: 'text',
        content: CONFIG_EXAMPLE
      });
    }
    await openSource(
      this._app,
      this._docManager,
      { path: CONFIG_PATH, line: line ?? null },
      this._trans
    );
  }

  private async _configExists(): Promise<boolean> {
    try {
      await this._docManager.services.contents.get(CONFIG_PATH, {
        content: false
      });
      return true;
    } catch (error) {
      if (
        error instanceof ServerConnection.ResponseError &&
        error.response.status === 404
      ) {
        return false;
      }
      // Unknown (server unreachable…): never risk writing over the file.
      throw error;
    }
  }

  /** Whether the server still has the terminal (the run's process is alive). */
  private async _isTerminalRunning(run: IRun, name: string): Promise<boolean> {
    const settings = this._app.serviceManager.serverSettings;
    if (!this._app.serviceManager.terminals.isAvailable()) {
      return false;
    }
    let running: TerminalAPI.IModel[];
    try {
      running = await TerminalAPI.listRunning(settings);
    } catch (error) {
      throw new Error(
        this._trans.__(
          'Cannot open the terminal of run %1: the server did not list its terminals (%2).',
          run.id,
          errorMessage(error)
        )
      );
    }
    return running.some(model => model.name === name);
  }

  private _findTerminal(name: string): Widget | null {
    for (const widget of this._app.shell.widgets('main')) {
      const content = (widget as MainAreaWidget).content as
        (Widget & { session?: { name?: string } }) | undefined;
      if (content?.session?.name === name) {
        return widget;
      }
    }
    return null;
  }

  /**
   * Name the terminal after its run; when the run's end closes it, its
   * output view takes its place, so the output stays readable.
   */
  private _watchTerminal(run: IRun, widget: Widget): void {
    const content = (widget as MainAreaWidget).content as
      (Widget & { ready?: Promise<void> }) | undefined;
    void (content?.ready ?? Promise.resolve()).then(() => {
      if (!widget.isDisposed) {
        const trans = this._trans;
        widget.title.label = trans.__('%1 · run %2', run.pipeline, run.id);
        widget.title.caption = trans.__(
          'Pipeline %1, run %2 (terminal %3)',
          run.pipeline,
          run.id,
          run.terminal
        );
      }
    });
    if (this._terminals.get(run.id)?.widget === widget) {
      return;
    }
    const entry: IOpenTerminal = {
      widget,
      closedAt: null,
      endedAt: null,
      wasVisible: false
    };
    this._terminals.set(run.id, entry);
    widget.disposed.connect(() => {
      entry.closedAt = Date.now();
      // `disposed` fires before the widget leaves the screen.
      entry.wasVisible = widget.isVisible;
      this._replaceTerminal(run.id, entry);
    });
  }

  private _onRunFinished(run: IRun): void {
    const entry = this._terminals.get(run.id);
    if (!entry) {
      return;
    }
    entry.endedAt = Date.now();
    this._replaceTerminal(run.id, entry);
    // A terminal left open (closeOnExit off) shows the end itself.
    window.setTimeout(() => {
      if (this._terminals.get(run.id) === entry) {
        this._terminals.delete(run.id);
      }
    }, TERMINAL_CLOSE_WINDOW_MS);
  }

  private _replaceTerminal(id: number, entry: IOpenTerminal): void {
    if (
      this._terminals.get(id) !== entry ||
      entry.closedAt === null ||
      entry.endedAt === null
    ) {
      return;
    }
    this._terminals.delete(id);
    if (Math.abs(entry.closedAt - entry.endedAt) < TERMINAL_CLOSE_WINDOW_MS) {
      void this.openRun(id, { activate: entry.wasVisible });
    }
  }

  private _app: JupyterFrontEnd;
  private _docManager: IDocumentManager;
  private _events: WorkspaceEvents;
  private _model: PipelinesModel;
  private _openSource: (source: ISource) => Promise<void>;
  private _terminals = new Map<number, IOpenTerminal>();
  private _trans: TranslationBundle;
}

export namespace PipelineActions {
  export interface IOptions {
    app: JupyterFrontEnd;
    docManager: IDocumentManager;
    events: WorkspaceEvents;
    trans: TranslationBundle;
    model: PipelinesModel;
    /** Opens a file at a line (a failure's link). */
    openSource: (source: ISource) => Promise<void>;
  }
}
