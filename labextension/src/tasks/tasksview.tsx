import { Dialog, showDialog } from '@jupyterlab/apputils';
import { Time } from '@jupyterlab/coreutils';
import { TranslationBundle } from '@jupyterlab/translation';
import {
  Button,
  HTMLSelect,
  addIcon,
  deleteIcon,
  linkIcon
} from '@jupyterlab/ui-components';
import * as React from 'react';

import {
  IDetected,
  ISource,
  ITask,
  ITaskChanges,
  PRIORITIES,
  Priority,
  TaskOriginFilter,
  TaskStatus,
  formatSource,
  parseSource
} from '../common/api';
import { Banner } from '../common/banner';
import { useClock, useRerenderOn } from '../common/hooks';
import { errorMessage } from '../common/request';
import { ISegmentedChoice, SegmentedButtons } from '../common/segmented';
import { SourceLink } from '../common/sourcelink';
import { useTranslation } from '../common/translation';
import { WrittenBy } from '../common/writtenby';
import { TasksModel, isFailure, isResolved } from './tasksmodel';

function statusFilters(
  trans: TranslationBundle
): ReadonlyArray<ISegmentedChoice<TaskStatus>> {
  return [
    {
      value: 'open',
      label: trans.__('Open'),
      title: trans.__('Tasks still to do')
    },
    {
      value: 'done',
      label: trans.__('Done'),
      title: trans.__('Finished tasks')
    },
    {
      value: 'resolved',
      label: trans.__('Resolved'),
      title: trans.__('Detected tasks no longer in their file or note')
    },
    { value: 'all', label: trans.__('All'), title: trans.__('Every task') }
  ];
}

function originFilters(
  trans: TranslationBundle
): ReadonlyArray<ISegmentedChoice<TaskOriginFilter>> {
  return [
    {
      value: 'all',
      label: trans.__('All'),
      title: trans.__('Your tasks and detected ones')
    },
    {
      value: 'user',
      label: trans.__('Mine'),
      title: trans.__('Only the tasks you added')
    },
    {
      value: 'detected',
      label: trans.__('Detected'),
      title: trans.__(
        'Only tasks found in code comments and notes (TODO, checkboxes…)'
      )
    }
  ];
}

function emptyText(
  status: TaskStatus,
  query: string,
  trans: TranslationBundle
): string {
  if (query.trim()) {
    return trans.__('No tasks match the filter.');
  }
  switch (status) {
    case 'done':
      return trans.__('No finished tasks.');
    case 'resolved':
      return trans.__('No resolved tasks.');
    default:
      return trans.__('No tasks.');
  }
}

function priorityLabel(priority: Priority, trans: TranslationBundle): string {
  switch (priority) {
    case 'low':
      return trans.__('Low');
    case 'normal':
      return trans.__('Normal');
    case 'high':
      return trans.__('High');
    case 'urgent':
      return trans.__('Urgent');
  }
}

export interface ITasksViewProps {
  model: TasksModel;
  /** Opens a task's file at its line; rejects with a message for the user. */
  onOpenSource: (source: ISource) => Promise<void>;
}

/** Today as `YYYY-MM-DD` in local time, to spot overdue tasks. */
function today(): string {
  const now = new Date();
  const month = String(now.getMonth() + 1).padStart(2, '0');
  const day = String(now.getDate()).padStart(2, '0');
  return `${now.getFullYear()}-${month}-${day}`;
}

async function confirmDelete(
  title: string,
  trans: TranslationBundle
): Promise<boolean> {
  const result = await showDialog({
    title: trans.__('Delete task?'),
    body: trans.__('Delete “%1”? This cannot be undone.', title),
    buttons: [
      Dialog.cancelButton(),
      Dialog.warnButton({ label: trans.__('Delete') })
    ]
  });
  return result.button.accept;
}

/** The Tasks panel: the add form, the status filter and the list. */
export function TasksView(props: ITasksViewProps): JSX.Element {
  const { model, onOpenSource } = props;
  const trans = useTranslation();
  useRerenderOn(model.changed);
  useClock();
  const [localError, setLocalError] = React.useState('');
  const error = localError || model.error;

  const openSource = async (source: ISource) => {
    try {
      setLocalError('');
      await onOpenSource(source);
    } catch (reason) {
      setLocalError(errorMessage(reason));
    }
  };
  const update = (task: ITask, changes: ITaskChanges) => {
    void model.update(task.id, changes);
  };
  const remove = async (task: ITask) => {
    if (await confirmDelete(task.title, trans)) {
      await model.remove(task.id);
    }
  };
  const now = today();

  return (
    <div className="jp-Workspace-tasks" aria-label={trans.__('Tasks')}>
      <NewTaskForm model={model} onError={setLocalError} />
      <div className="jp-Workspace-toolbar">
        <input
          type="search"
          className="jp-Workspace-taskQuery jp-Workspace-input"
          placeholder={trans.__('Filter tasks')}
          aria-label={trans.__('Filter tasks by title')}
          value={model.query}
          onChange={event => model.setQuery(event.target.value)}
          onKeyDown={event => {
            if (event.key === 'Escape' && model.query) {
              event.preventDefault();
              event.stopPropagation();
              model.setQuery('');
            }
          }}
        />
      </div>
      <div className="jp-Workspace-toolbar jp-Workspace-taskToolbar">
        <SegmentedButtons
          className="jp-Workspace-taskFilter"
          label={trans.__('Show tasks')}
          attribute="data-status"
          choices={statusFilters(trans)}
          value={model.status}
          onChange={status => model.setStatus(status)}
        />
        <SegmentedButtons
          className="jp-Workspace-taskOriginFilter"
          label={trans.__('Tasks from')}
          attribute="data-origin"
          choices={originFilters(trans)}
          value={model.origin}
          onChange={origin => model.setOrigin(origin)}
        />
        <span className="jp-Workspace-count" aria-live="polite">
          {model.loading ? '' : trans.__('%1 shown', model.tasks.length)}
        </span>
      </div>
      {error && (
        <Banner
          kind="error"
          onDismiss={() => {
            setLocalError('');
            model.dismissError();
          }}
        >
          {error}
        </Banner>
      )}
      <ul className="jp-Workspace-taskList" aria-label={trans.__('Tasks')}>
        {model.tasks.map(task => (
          <TaskItem
            key={task.id}
            task={task}
            overdue={!task.done && task.due !== null && task.due < now}
            onChange={changes => update(task, changes)}
            onDelete={() => void remove(task)}
            onOpenSource={openSource}
            onError={setLocalError}
          />
        ))}
        {!model.loading && model.tasks.length === 0 && (
          <li className="jp-Workspace-empty">
            {emptyText(model.status, model.query, trans)}
          </li>
        )}
      </ul>
    </div>
  );
}

interface INewTaskFormProps {
  model: TasksModel;
  onError: (message: string) => void;
}

function NewTaskForm(props: INewTaskFormProps): JSX.Element {
  const { model, onError } = props;
  const trans = useTranslation();
  const [title, setTitle] = React.useState('');
  const [priority, setPriority] = React.useState<Priority>('normal');
  const [due, setDue] = React.useState('');
  const [source, setSource] = React.useState('');
  const [busy, setBusy] = React.useState(false);

  const submit = async (event: React.FormEvent) => {
    event.preventDefault();
    const text = title.trim();
    if (!text || busy) {
      return;
    }
    let parsed: ISource | null;
    try {
      parsed = parseSource(source, trans);
    } catch (reason) {
      onError(errorMessage(reason));
      return;
    }
    onError('');
    setBusy(true);
    const task = await model.add({
      title: text,
      priority,
      due: due || null,
      source: parsed
    });
    setBusy(false);
    if (task) {
      setTitle('');
      setDue('');
      setSource('');
      setPriority('normal');
    }
  };

  return (
    <form className="jp-Workspace-newTask" onSubmit={submit}>
      <div className="jp-Workspace-toolbar">
        <input
          className="jp-Workspace-newTaskInput jp-Workspace-input"
          placeholder={trans.__('Add a task and press Enter')}
          aria-label={trans.__('New task title')}
          maxLength={200}
          value={title}
          onChange={event => setTitle(event.target.value)}
        />
        <Button
          type="submit"
          className="jp-Workspace-addTask jp-Workspace-iconButton"
          aria-label={trans.__('Add task')}
          title={trans.__('Add task')}
          disabled={busy || !title.trim()}
        >
          <addIcon.react tag="span" />
        </Button>
      </div>
      <div className="jp-Workspace-newTaskDetails">
        <HTMLSelect
          className="jp-Workspace-newTaskPriority jp-Workspace-select"
          aria-label={trans.__('New task priority')}
          value={priority}
          onChange={event => setPriority(event.target.value as Priority)}
        >
          {PRIORITIES.map(p => (
            <option key={p} value={p}>
              {priorityLabel(p, trans)}
            </option>
          ))}
        </HTMLSelect>
        <input
          type="date"
          className="jp-Workspace-newTaskDue jp-Workspace-input"
          aria-label={trans.__('New task due date')}
          value={due}
          onChange={event => setDue(event.target.value)}
        />
        <input
          className="jp-Workspace-newTaskSource jp-Workspace-input"
          placeholder={trans.__('file:line')}
          aria-label={trans.__('New task file link (path:line)')}
          value={source}
          onChange={event => setSource(event.target.value)}
        />
      </div>
    </form>
  );
}

interface ITaskItemProps {
  task: ITask;
  overdue: boolean;
  onChange: (changes: ITaskChanges) => void;
  onDelete: () => void;
  onOpenSource: (source: ISource) => void;
  onError: (message: string) => void;
}

function TaskItem(props: ITaskItemProps): JSX.Element {
  const { task, overdue, onChange, onDelete, onOpenSource, onError } = props;
  const trans = useTranslation();
  const [title, setTitle] = React.useState(task.title);
  const [editingTitle, setEditingTitle] = React.useState(false);
  const [sourceText, setSourceText] = React.useState<string | null>(null);

  // Follow changes from elsewhere unless the user is typing a new title.
  React.useEffect(() => {
    if (!editingTitle) {
      setTitle(task.title);
    }
  }, [task.title, editingTitle]);

  const commitTitle = () => {
    setEditingTitle(false);
    const text = title.trim();
    if (!text) {
      setTitle(task.title);
      return;
    }
    if (text !== task.title) {
      onChange({ title: text });
    }
  };

  /** Save a typed file link; returns false (and says why) if it is invalid. */
  const commitSource = (text: string): boolean => {
    try {
      const source = parseSource(text, trans);
      if (formatSource(source) !== formatSource(task.source)) {
        onChange({ source });
      }
      setSourceText(null);
      return true;
    } catch (reason) {
      onError(errorMessage(reason));
      return false;
    }
  };

  const detected = task.detected ?? null;
  const resolved = isResolved(task);
  const classes = ['jp-Workspace-taskItem', `jp-mod-priority-${task.priority}`];
  if (task.done) {
    classes.push('jp-mod-done');
  }
  if (resolved) {
    classes.push('jp-mod-resolved');
  }
  if (isFailure(task)) {
    classes.push('jp-mod-failure');
  }
  return (
    <li
      className={classes.join(' ')}
      data-id={task.id}
      data-done={task.done ? 'true' : 'false'}
      data-origin={task.origin ?? 'user'}
    >
      <div className="jp-Workspace-taskMain">
        <input
          type="checkbox"
          className="jp-Workspace-taskDone"
          checked={task.done}
          aria-label={trans.__('Done: %1', task.title)}
          onChange={event => onChange({ done: event.target.checked })}
        />
        <input
          className="jp-Workspace-taskTitle"
          value={title}
          aria-label={trans.__('Task title')}
          title={task.title}
          maxLength={200}
          onFocus={() => setEditingTitle(true)}
          onChange={event => setTitle(event.target.value)}
          onBlur={commitTitle}
          onKeyDown={event => {
            if (event.key === 'Enter') {
              event.currentTarget.blur();
            } else if (event.key === 'Escape') {
              setTitle(task.title);
              setEditingTitle(false);
              // Blur after the reset so commitTitle sees the old title.
              const input = event.currentTarget;
              requestAnimationFrame(() => input.blur());
            }
          }}
        />
        {/*
         * Beside delete, not in the details, which need the room; indexing
         * keeps a detected task's link on its line.
         */}
        {!detected && (
          <Button
            type="button"
            className="jp-Workspace-editSource jp-Workspace-iconButton"
            onClick={() => setSourceText(formatSource(task.source))}
            aria-label={
              task.source
                ? trans.__('Edit file link')
                : trans.__('Add file link')
            }
            title={
              task.source
                ? trans.__('Edit file link')
                : trans.__('Link a file and line')
            }
          >
            <linkIcon.react tag="span" />
          </Button>
        )}
        <Button
          type="button"
          className="jp-Workspace-deleteTask jp-Workspace-iconButton"
          onClick={onDelete}
          aria-label={trans.__('Delete task: %1', task.title)}
          title={trans.__('Delete task')}
        >
          <deleteIcon.react tag="span" />
        </Button>
      </div>
      <div className="jp-Workspace-taskMeta">
        {detected && <DetectedMarks detected={detected} />}
        <WrittenBy writer={task.written_by} />
        <HTMLSelect
          className="jp-Workspace-taskPriority jp-Workspace-select"
          aria-label={trans.__('Priority')}
          value={task.priority}
          onChange={event =>
            onChange({ priority: event.target.value as Priority })
          }
        >
          {PRIORITIES.map(p => (
            <option key={p} value={p}>
              {priorityLabel(p, trans)}
            </option>
          ))}
        </HTMLSelect>
        <input
          type="date"
          className={`jp-Workspace-taskDue jp-Workspace-input${
            overdue ? ' jp-mod-overdue' : ''
          }${task.due ? '' : ' jp-mod-empty'}`}
          aria-label={
            overdue ? trans.__('Due date (overdue)') : trans.__('Due date')
          }
          title={
            overdue
              ? trans.__('Overdue')
              : task.due
                ? trans.__('Due date')
                : trans.__('Set a due date')
          }
          value={task.due ?? ''}
          onChange={event => onChange({ due: event.target.value || null })}
        />
        {sourceText !== null ? (
          <SourceInput
            initial={sourceText}
            onCommit={commitSource}
            onCancel={() => setSourceText(null)}
          />
        ) : (
          task.source && (
            <SourceLink
              className="jp-Workspace-taskSource"
              source={task.source}
              title={
                detected
                  ? trans.__(
                      'Open %1, where it was found',
                      formatSource(task.source)
                    )
                  : trans.__('Open %1', formatSource(task.source))
              }
              onOpen={onOpenSource}
            />
          )
        )}
        {/* Last on the line, in what room is left: the row stays two lines. */}
        {detected && (
          <code className="jp-Workspace-taskSnippet" title={detected.snippet}>
            {detected.snippet.trim()}
          </code>
        )}
      </div>
    </li>
  );
}

/** What a badge says about where a detected task was found. */
function tagDescription(tag: string, trans: TranslationBundle): string {
  switch (tag) {
    case 'CHECKBOX':
      return trans.__('Found as a checkbox in a note or markdown file');
    case 'ACTION':
      return trans.__('Found as an action item in a note or markdown file');
    default:
      return trans.__('Found in a %1 code comment', tag);
  }
}

/** A detected task's tag, owner, issue and whether it has gone. */
function DetectedMarks(props: { detected: IDetected }): JSX.Element {
  const { tag, owner, ref, resolved } = props.detected;
  const trans = useTranslation();
  return (
    <>
      <span
        className="jp-Workspace-taskTag"
        data-tag={tag}
        title={tagDescription(tag, trans)}
      >
        {tag}
      </span>
      {owner && (
        <span
          className="jp-Workspace-taskOwner"
          title={trans.__('Owner: %1', owner)}
          aria-label={trans.__('Owner: %1', owner)}
        >
          {owner}
        </span>
      )}
      {ref && (
        <span
          className="jp-Workspace-taskRef"
          title={trans.__('Refers to %1', ref)}
        >
          {ref}
        </span>
      )}
      {resolved && (
        <span
          className="jp-Workspace-taskResolved"
          title={trans.__(
            'No longer in its file or note since %1',
            Time.format(resolved)
          )}
        >
          {trans.__('resolved')}
        </span>
      )}
    </>
  );
}

interface ISourceInputProps {
  initial: string;
  /** Returns false to keep editing (the text was invalid). */
  onCommit: (text: string) => boolean;
  onCancel: () => void;
}

/** The inline editor of a task's `path:line` link. */
function SourceInput(props: ISourceInputProps): JSX.Element {
  const { initial, onCommit, onCancel } = props;
  const trans = useTranslation();
  const [text, setText] = React.useState(initial);
  // Enter, Escape and blur may all arrive for one edit: act on the first.
  const finished = React.useRef(false);
  const finish = (commit: boolean) => {
    if (finished.current) {
      return;
    }
    finished.current = true;
    if (commit) {
      finished.current = onCommit(text);
    } else {
      onCancel();
    }
  };
  return (
    <input
      className="jp-Workspace-taskSourceInput jp-Workspace-input"
      placeholder={trans.__('file:line')}
      aria-label={trans.__('File link (path:line)')}
      autoFocus
      value={text}
      onChange={event => setText(event.target.value)}
      onBlur={() => finish(true)}
      onKeyDown={event => {
        if (event.key === 'Enter') {
          event.preventDefault();
          finish(true);
        } else if (event.key === 'Escape') {
          event.preventDefault();
          finish(false);
        }
      }}
    />
  );
}
