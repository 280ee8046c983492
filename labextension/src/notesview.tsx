import { Dialog, showDialog } from '@jupyterlab/apputils';
import { Time } from '@jupyterlab/coreutils';
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { addIcon, closeIcon, deleteIcon } from '@jupyterlab/ui-components';
import * as React from 'react';

import { INote } from './api';
import { Banner } from './banner';
import { useClock, useRerenderOn } from './hooks';
import { MarkdownPreview } from './markdownpreview';
import { NoteDraft, SaveState } from './notedraft';
import { NotesModel } from './notesmodel';

export type NoteViewMode = 'edit' | 'split' | 'preview';

const VIEW_MODES: ReadonlyArray<{ mode: NoteViewMode; label: string }> = [
  { mode: 'edit', label: 'Edit' },
  { mode: 'split', label: 'Split' },
  { mode: 'preview', label: 'Preview' }
];

const SAVE_LABELS: Record<SaveState, string> = {
  saved: 'Saved',
  dirty: 'Unsaved',
  saving: 'Saving…',
  conflict: 'Conflict',
  error: 'Not saved'
};

export interface INotesViewProps {
  model: NotesModel;
  rendermime: IRenderMimeRegistry;
}

/** Ask before deleting a note; resolves to whether the user agreed. */
async function confirmDelete(title: string): Promise<boolean> {
  const result = await showDialog({
    title: 'Delete note?',
    body: `Delete “${title || 'Untitled'}”? This cannot be undone.`,
    buttons: [Dialog.cancelButton(), Dialog.warnButton({ label: 'Delete' })]
  });
  return result.button.accept;
}

/** The Notes panel: filter, list and the open note's editor. */
export function NotesView(props: INotesViewProps): JSX.Element {
  const { model, rendermime } = props;
  useRerenderOn(model.changed);
  useClock();
  const [mode, setMode] = React.useState<NoteViewMode>('edit');
  const draft = model.draft;
  const query = model.query.trim();

  const onDelete = async (note: { id: number; title: string }) => {
    if (await confirmDelete(note.title)) {
      await model.remove(note.id);
    }
  };

  return (
    <div
      className={`jp-Workspace-notes${draft ? ' jp-mod-editing' : ''}`}
      aria-label="Notes"
    >
      <div className="jp-Workspace-toolbar">
        <input
          type="search"
          className="jp-Workspace-noteFilter jp-Workspace-input"
          placeholder="Filter notes"
          aria-label="Filter notes (full text)"
          value={model.query}
          onChange={event => model.setQuery(event.target.value)}
        />
        <button
          type="button"
          className="jp-Workspace-newNote jp-Workspace-iconButton"
          onClick={() => void model.create()}
          aria-label="New note"
          title="New note"
        >
          <addIcon.react tag="span" />
        </button>
      </div>
      {model.error && (
        <Banner kind="error" onDismiss={() => model.dismissError()}>
          {model.error}
        </Banner>
      )}
      {model.notice && (
        <Banner kind="info" onDismiss={() => model.dismissNotice()}>
          {model.notice}
        </Banner>
      )}
      <ul className="jp-Workspace-noteList" aria-label="Notes">
        {model.notes.map(note => (
          <NoteItem
            key={note.id}
            note={note}
            draft={draft?.id === note.id ? draft : null}
            onOpen={() => void model.open(note.id)}
          />
        ))}
        {!model.loading && model.notes.length === 0 && (
          <li className="jp-Workspace-empty">
            {query ? 'No notes match the filter.' : 'No notes yet.'}
          </li>
        )}
      </ul>
      {draft && (
        <NoteEditor
          key={draft.id}
          draft={draft}
          rendermime={rendermime}
          mode={mode}
          onModeChange={setMode}
          onClose={() => void model.close()}
          onDelete={() => void onDelete(draft)}
        />
      )}
    </div>
  );
}

interface INoteItemProps {
  note: INote;
  /** The draft when this note is the open one. */
  draft: NoteDraft | null;
  onOpen: () => void;
}

function NoteItem(props: INoteItemProps): JSX.Element {
  const { note, draft, onOpen } = props;
  // The open note's title follows the editor before the save lands.
  const title = (draft ? draft.title : note.title) || 'Untitled';
  return (
    <li
      className={`jp-Workspace-noteItem${draft ? ' jp-mod-selected' : ''}`}
      data-id={note.id}
    >
      <button
        type="button"
        className="jp-Workspace-noteOpen"
        onClick={onOpen}
        aria-current={draft ? 'true' : undefined}
        title={title}
      >
        <span className="jp-Workspace-noteItemTitle">{title}</span>
        <time
          className="jp-Workspace-noteUpdated"
          dateTime={note.updated}
          title={`Updated ${Time.format(note.updated)}`}
        >
          {Time.formatHuman(note.updated)}
        </time>
      </button>
    </li>
  );
}

interface INoteEditorProps {
  draft: NoteDraft;
  rendermime: IRenderMimeRegistry;
  mode: NoteViewMode;
  onModeChange: (mode: NoteViewMode) => void;
  onClose: () => void;
  onDelete: () => void;
}

function NoteEditor(props: INoteEditorProps): JSX.Element {
  const { draft, rendermime, mode, onModeChange, onClose, onDelete } = props;
  useRerenderOn(draft.changed);
  const titleInput = React.useRef<HTMLInputElement>(null);

  React.useEffect(() => {
    if (draft.fresh && titleInput.current) {
      titleInput.current.focus();
      titleInput.current.select();
    }
  }, [draft]);

  const state = draft.state;
  return (
    <section
      className="jp-Workspace-noteEditor"
      data-id={draft.id}
      aria-label="Note editor"
    >
      <div className="jp-Workspace-noteHeader">
        <input
          ref={titleInput}
          className="jp-Workspace-noteTitle jp-Workspace-input"
          value={draft.title}
          placeholder="Title"
          aria-label="Note title"
          maxLength={200}
          onChange={event => draft.setTitle(event.target.value)}
          onKeyDown={event => {
            if (event.key === 'Enter') {
              event.preventDefault();
              const body = event.currentTarget
                .closest('.jp-Workspace-noteEditor')
                ?.querySelector<HTMLTextAreaElement>('.jp-Workspace-noteBody');
              body?.focus();
            }
          }}
        />
        <button
          type="button"
          className="jp-Workspace-closeNote jp-Workspace-iconButton"
          onClick={onClose}
          aria-label="Close note"
          title="Close note"
        >
          <closeIcon.react tag="span" />
        </button>
      </div>
      <div className="jp-Workspace-noteTools">
        <div className="jp-Workspace-segmented" role="group" aria-label="View">
          {VIEW_MODES.map(item => (
            <button
              key={item.mode}
              type="button"
              className={`jp-Workspace-modeButton${
                mode === item.mode ? ' jp-mod-active' : ''
              }`}
              data-mode={item.mode}
              aria-pressed={mode === item.mode}
              onClick={() => onModeChange(item.mode)}
            >
              {item.label}
            </button>
          ))}
        </div>
        <span
          className="jp-Workspace-saveState"
          data-state={state}
          role="status"
          aria-live="polite"
        >
          {SAVE_LABELS[state]}
        </span>
        <button
          type="button"
          className="jp-Workspace-deleteNote jp-Workspace-iconButton"
          onClick={onDelete}
          aria-label="Delete note"
          title="Delete note"
        >
          <deleteIcon.react tag="span" />
        </button>
      </div>
      {state === 'conflict' && (
        <Banner kind="warning">
          <span>
            This note was changed elsewhere while you were editing it; your last
            changes are not saved.
          </span>
          <span className="jp-Workspace-bannerActions">
            <button
              type="button"
              className="jp-Workspace-textButton jp-Workspace-reloadNote"
              onClick={() => draft.reload()}
            >
              Reload theirs
            </button>
            <button
              type="button"
              className="jp-Workspace-textButton jp-Workspace-overwriteNote"
              onClick={() => void draft.overwrite()}
            >
              Keep mine
            </button>
          </span>
        </Banner>
      )}
      {state === 'error' && (
        <Banner kind="error">
          <span>Could not save: {draft.error}</span>
          <span className="jp-Workspace-bannerActions">
            <button
              type="button"
              className="jp-Workspace-textButton"
              onClick={() => void draft.flush()}
            >
              Retry
            </button>
          </span>
        </Banner>
      )}
      <div className={`jp-Workspace-noteContent jp-mod-${mode}`}>
        {mode !== 'preview' && (
          <textarea
            className="jp-Workspace-noteBody"
            value={draft.body}
            placeholder="Write Markdown…"
            aria-label="Note body (Markdown)"
            onChange={event => draft.setBody(event.target.value)}
          />
        )}
        {mode !== 'edit' && (
          <MarkdownPreview rendermime={rendermime} source={draft.body} />
        )}
      </div>
    </section>
  );
}
