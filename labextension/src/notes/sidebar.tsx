/**
 * The Workspace entry of the left sidebar: Notes and Tasks sections.
 */
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { TranslationBundle } from '@jupyterlab/translation';
import { ReactWidget, SidePanel } from '@jupyterlab/ui-components';
import { AccordionPanel, Widget } from '@lumino/widgets';
import * as React from 'react';

import { afterPendingActivation } from '../common/activation';
import { ISource } from '../common/api';
import { ConnectionStatus } from '../common/connectionstatus';
import { WorkspaceEvents } from '../common/events';
import { workspaceIcon } from '../common/icons';
import { translated } from '../common/translation';
import { TasksModel } from '../tasks/tasksmodel';
import { TasksView } from '../tasks/tasksview';
import { NotesModel } from './notesmodel';
import { NotesView } from './notesview';

export const SIDEBAR_ID = 'jupyter-workspace:sidebar';

export class WorkspaceSidebar extends SidePanel {
  constructor(options: WorkspaceSidebar.IOptions) {
    super();
    this.id = SIDEBAR_ID;
    this.addClass('jp-Workspace-sidebar');
    this.title.icon = workspaceIcon;
    const { trans } = options;
    this.title.caption = trans.__('Workspace');

    this.notes = options.notes;
    this.tasks = options.tasks;

    const header = ReactWidget.create(
      translated(
        trans,
        <div className="jp-Workspace-header">
          <h2 className="jp-Workspace-heading">{trans.__('Workspace')}</h2>
          <ConnectionStatus events={options.events} />
        </div>
      )
    );
    header.addClass('jp-Workspace-headerWidget');
    this.header.addWidget(header);

    this._notesSection = ReactWidget.create(
      translated(
        trans,
        <NotesView
          model={options.notes}
          rendermime={options.rendermime}
          onOpenSource={options.openSource}
        />
      )
    );
    this._notesSection.addClass('jp-Workspace-section');
    this._notesSection.title.label = trans.__('Notes');

    this._tasksSection = ReactWidget.create(
      translated(
        trans,
        <TasksView model={options.tasks} onOpenSource={options.openSource} />
      )
    );
    this._tasksSection.addClass('jp-Workspace-section');
    this._tasksSection.title.label = trans.__('Tasks');

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
    trans: TranslationBundle;
    notes: NotesModel;
    tasks: TasksModel;
    rendermime: IRenderMimeRegistry;
    openSource: (source: ISource) => Promise<void>;
  }
}
