import { Dialog, showDialog } from '@jupyterlab/apputils';
import { Time } from '@jupyterlab/coreutils';
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { addIcon, closeIcon, deleteIcon } from '@jupyterlab/ui-components';
import * as React from 'react';

import { INote, ISource } from '../common/api';
import { Banner, ErrorBanner } from '../common/banner';
import { useActionError, useClock, useRerenderOn } from '../common/hooks';
import { MarkdownPreview } from '../common/markdownpreview';
import { ISegmentedChoice, SegmentedButtons } from '../common/segmented';
import { IEntity } from './entitiesapi';
import { NoteEntities } from './entitiesmodel';
import { EntityPopover } from './entityview';
import { NoteDraft, SaveState } from './notedraft';
import { NotesModel } from './notesmodel';

export type NoteViewMode = 'edit' | 'split' | 'preview';

const VIEW_MODES: ReadonlyArray<ISegmentedChoice<NoteViewMode>> = [
  { value: 'edit', label: 'Edit', title: 'Edit the markdown' },
  { value: 'split', label: 'Split', title: 'Edit beside the preview' },
  { value: 'preview', label: 'Preview', title: 'Only the rendered note' }
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
  /** Opens a file at a line, or a note; rejects with a message for the user. */
  onOpenSource: (source: ISource) => Promise<void>;
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
  const { model, rendermime, onOpenSource } = props;
  useRerenderOn(model.changed);
  useClock();
  const [mode, setMode] = React.useState<NoteViewMode>('edit');
  const draft = model.draft;
  const entities = model.entities;
  const [openError, attempt, dismissOpenError] = useActionError();
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
      <ErrorBanner
        message={model.error}
        onDismiss={() => model.dismissError()}
      />
      <ErrorBanner message={openError} onDismiss={dismissOpenError} />
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
      {draft && entities && (
        <NoteEditor
          key={draft.id}
          draft={draft}
          entities={entities}
          rendermime={rendermime}
          mode={mode}
          onModeChange={setMode}
          onClose={() => void model.close()}
          onDelete={() => void onDelete(draft)}
          onOpenSource={source => void attempt(() => onOpenSource(source))}
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
  /** The entities the note mentions (linked in its preview). */
  entities: NoteEntities;
  rendermime: IRenderMimeRegistry;
  mode: NoteViewMode;
  onModeChange: (mode: NoteViewMode) => void;
  onClose: () => void;
  onDelete: () => void;
  onOpenSource: (source: ISource) => void;
}

/** The entity popover that is open: which entity, from which button. */
interface IOpenEntity {
  entity: IEntity;
  anchor: HTMLElement;
}

function NoteEditor(props: INoteEditorProps): JSX.Element {
  const { draft, entities, rendermime, mode, onModeChange, onClose } = props;
  useRerenderOn(draft.changed);
  useRerenderOn(entities.changed);
  const titleInput = React.useRef<HTMLInputElement>(null);
  const section = React.useRef<HTMLElement>(null);
  const [openEntity, setOpenEntity] = React.useState<IOpenEntity | null>(null);

  React.useEffect(() => {
    if (draft.fresh && titleInput.current) {
      titleInput.current.focus();
      titleInput.current.select();
    }
  }, [draft]);

  // The popover belongs to the preview: it goes when the preview does.
  React.useEffect(() => {
    if (mode === 'edit') {
      setOpenEntity(null);
    }
  }, [mode]);

  const state = draft.state;
  return (
    <section
      ref={section}
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
        <SegmentedButtons
          label="View"
          attribute="data-mode"
          choices={VIEW_MODES}
          value={mode}
          onChange={onModeChange}
        />
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
          onClick={props.onDelete}
          aria-label="Delete note"
          title="Delete note"
        >
          <deleteIcon.react tag="span" />
        </button>
      </div>
      <EntityBar
        entities={entities}
        onRefine={async () => {
          // The LLM reads the stored note: store the last edits first.
          await draft.flush();
          await entities.refine();
        }}
      />
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
          <MarkdownPreview
            rendermime={rendermime}
            source={draft.body}
            entities={entities.entities}
            onOpenEntity={(entity, anchor) => setOpenEntity({ entity, anchor })}
          />
        )}
      </div>
      {openEntity && section.current && (
        <EntityPopover
          key={openEntity.entity.id}
          entity={openEntity.entity}
          anchor={openEntity.anchor}
          container={section.current}
          onOpenSource={props.onOpenSource}
          onClose={() => setOpenEntity(null)}
        />
      )}
    </section>
  );
}

interface IEntityBarProps {
  entities: NoteEntities;
  onRefine: () => Promise<void>;
}

/** How many entities the note mentions, and the LLM refine action. */
function EntityBar(props: IEntityBarProps): JSX.Element {
  const { entities, onRefine } = props;
  const count = entities.entities.length;
  const outcome = entities.refineOutcome;
  return (
    <>
      <div className="jp-Workspace-noteEntityBar">
        <span
          className="jp-Workspace-entityCount"
          role="status"
          aria-live="polite"
          title="People, organisations, components, ids, files and symbols the note mentions; the preview links them"
        >
          {count === 0
            ? 'No entities found'
            : `${count} ${count === 1 ? 'entity' : 'entities'}`}
        </span>
        <button
          type="button"
          className="jp-Workspace-textButton jp-Workspace-refineEntities"
          disabled={entities.refining}
          aria-busy={entities.refining}
          title="Ask the configured LLM which people, organisations, components and ids this note mentions"
          onClick={() => void onRefine()}
        >
          {entities.refining ? 'Refining…' : 'Refine entities with the LLM'}
        </button>
      </div>
      {entities.error && (
        <Banner kind="error" onDismiss={() => entities.dismissError()}>
          Cannot list the note's entities: {entities.error}
        </Banner>
      )}
      {outcome && (
        <div className="jp-Workspace-refineOutcome" data-ok={outcome.ok}>
          <Banner
            kind={outcome.ok ? 'info' : 'error'}
            onDismiss={() => entities.dismissRefineOutcome()}
          >
            {outcome.ok
              ? `Refined with the LLM: the note mentions ${outcome.found} ${
                  outcome.found === 1 ? 'entity' : 'entities'
                }.`
              : outcome.message}
          </Banner>
        </div>
      )}
    </>
  );
}
