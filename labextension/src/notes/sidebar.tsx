/**
 * The Workspace entry of the left sidebar: Notes and Tasks sections.
 */
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { TranslationBundle } from '@jupyterlab/translation';
import { ReactWidget, SidePanel } from '@jupyterlab/ui-components';
import { Message } from '@lumino/messaging';
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

/** The most of the sidebar the Notes section takes for its list. */
const LIST_SHARE = 0.6;

/** The share of the sidebar the Notes section takes while a note is open. */
const EDITING_SHARE = 0.7;

/** The least height of a section, in px (as `.jp-Workspace-section`'s CSS). */
const MIN_SECTION_PX = 80;

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
    const accordion = this.content as AccordionPanel;
    accordion.setRelativeSizes([3, 2]);
    accordion.handleMoved.connect(() => {
      this._sizedByUser = true;
    }, this);
    this.notes.changed.connect(this._scheduleFit, this);
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

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    this._scheduleFit();
  }

  protected onResize(msg: Widget.ResizeMessage): void {
    super.onResize(msg);
    this._scheduleFit();
  }

  /** Fit the sections once the Notes view has rendered its change. */
  private _scheduleFit(): void {
    if (this._fitFrame === 0) {
      this._fitFrame = requestAnimationFrame(() => {
        this._fitFrame = 0;
        this._fitSections();
      });
    }
  }

  /**
   * Give Notes the height of its list (at most LIST_SHARE of the sidebar)
   * while no note is open, so a short list leaves the room to the tasks, and
   * EDITING_SHARE while one is, for its editor. Once the user has dragged the
   * handle between the sections, the sizes are theirs.
   */
  private _fitSections(): void {
    const notes = this._notesSection;
    const tasks = this._tasksSection;
    if (
      this._sizedByUser ||
      !this.isVisible ||
      notes.isHidden ||
      tasks.isHidden
    ) {
      return;
    }
    const available = notes.node.offsetHeight + tasks.node.offsetHeight;
    const root = notes.node.querySelector<HTMLElement>('.jp-Workspace-notes');
    const list = root?.querySelector<HTMLElement>('.jp-Workspace-noteList');
    if (available <= 0 || !root || !list) {
      return;
    }
    let wanted = available * EDITING_SHARE;
    if (!this.notes.draft) {
      const items = Array.from(list.children).reduce(
        (height, item) => height + (item as HTMLElement).offsetHeight,
        0
      );
      // Everything but the list (toolbar, banners, padding), and the list's items.
      const listed = root.offsetHeight - list.offsetHeight + items;
      wanted = Math.min(listed, available * LIST_SHARE);
    }
    wanted = Math.max(
      MIN_SECTION_PX,
      Math.min(wanted, available - MIN_SECTION_PX)
    );
    if (Math.abs(wanted - notes.node.offsetHeight) >= 2) {
      (this.content as AccordionPanel).setRelativeSizes([
        wanted,
        available - wanted
      ]);
    }
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
  private _sizedByUser = false;
  private _fitFrame = 0;
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
