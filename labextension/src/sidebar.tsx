/**
 * The Workspace entry of the left sidebar: Notes and Tasks sections.
 */
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { LabIcon, ReactWidget, SidePanel } from '@jupyterlab/ui-components';
import { AccordionPanel, Widget } from '@lumino/widgets';
import * as React from 'react';

import workspaceSvg from '../style/icons/workspace.svg';
import { ISource } from './api';
import { ConnectionState, WorkspaceEvents } from './events';
import { useRerenderOn } from './hooks';
import { NotesModel } from './notesmodel';
import { NotesView } from './notesview';
import { TasksModel } from './tasksmodel';
import { TasksView } from './tasksview';

export const SIDEBAR_ID = 'jupyter-workspace:sidebar';

export const workspaceIcon = new LabIcon({
  name: 'jupyter-workspace:workspace',
  svgstr: workspaceSvg
});

/** The socket's state, shown while live updates are not flowing. */
export function ConnectionStatus(props: {
  events: WorkspaceEvents;
}): JSX.Element {
  const { events } = props;
  useRerenderOn(events.stateChanged);
  const state: ConnectionState = events.state;
  const text =
    state === 'open'
      ? ''
      : state === 'connecting'
        ? 'Connecting to live updates…'
        : 'Live updates paused; reconnecting…';
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

/**
 * Wait until widget activations already requested have run.
 *
 * Lumino processes activate requests on the next animation frame; the
 * command palette, for one, re-activates the widget it was opened from when
 * it closes. Focusing after two frames keeps that from taking focus back.
 */
export function afterPendingActivation(): Promise<void> {
  return new Promise(resolve =>
    requestAnimationFrame(() => requestAnimationFrame(() => resolve()))
  );
}

export class WorkspaceSidebar extends SidePanel {
  constructor(options: WorkspaceSidebar.IOptions) {
    super();
    this.id = SIDEBAR_ID;
    this.addClass('jp-Workspace-sidebar');
    this.title.icon = workspaceIcon;
    this.title.caption = 'Workspace';

    this.notes = options.notes;
    this.tasks = options.tasks;

    const header = ReactWidget.create(
      <div className="jp-Workspace-header">
        <h2 className="jp-Workspace-heading">Workspace</h2>
        <ConnectionStatus events={options.events} />
      </div>
    );
    header.addClass('jp-Workspace-headerWidget');
    this.header.addWidget(header);

    this._notesSection = ReactWidget.create(
      <NotesView
        model={options.notes}
        rendermime={options.rendermime}
        onOpenSource={options.openSource}
      />
    );
    this._notesSection.addClass('jp-Workspace-section');
    this._notesSection.title.label = 'Notes';

    this._tasksSection = ReactWidget.create(
      <TasksView model={options.tasks} onOpenSource={options.openSource} />
    );
    this._tasksSection.addClass('jp-Workspace-section');
    this._tasksSection.title.label = 'Tasks';

    this.addWidget(this._notesSection);
    this.addWidget(this._tasksSection);
    (this.content as AccordionPanel).setRelativeSizes([3, 2]);
  }

  readonly notes: NotesModel;
  readonly tasks: TasksModel;

  /** Expand the Notes section. */
  showNotes(): void {
    this._expand(this._notesSection);
  }

  /** Expand the Tasks section and put the cursor in its new-task field. */
  async focusNewTask(): Promise<void> {
    this._expand(this._tasksSection);
    await afterPendingActivation();
    this._tasksSection.node
      .querySelector<HTMLInputElement>('.jp-Workspace-newTaskInput')
      ?.focus();
  }

  /** Put the cursor in the open note's title, selecting it. */
  async focusNoteTitle(): Promise<void> {
    await afterPendingActivation();
    const input = this._notesSection.node.querySelector<HTMLInputElement>(
      '.jp-Workspace-noteTitle'
    );
    input?.focus();
    input?.select();
  }

  private _expand(section: Widget): void {
    const accordion = this.content as AccordionPanel;
    const index = accordion.widgets.indexOf(section);
    if (index >= 0) {
      accordion.expand(index);
    }
  }

  private _notesSection: Widget;
  private _tasksSection: Widget;
}

export namespace WorkspaceSidebar {
  export interface IOptions {
    events: WorkspaceEvents;
    notes: NotesModel;
    tasks: TasksModel;
    rendermime: IRenderMimeRegistry;
    openSource: (source: ISource) => Promise<void>;
  }
}
