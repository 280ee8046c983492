import { Dialog, showDialog } from '@jupyterlab/apputils';
import { Time } from '@jupyterlab/coreutils';
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { TranslationBundle } from '@jupyterlab/translation';
import {
  Button,
  addIcon,
  closeIcon,
  deleteIcon
} from '@jupyterlab/ui-components';
import * as React from 'react';

import { INote, ISource } from '../common/api';
import { Banner, ErrorBanner } from '../common/banner';
import { useActionError, useClock, useRerenderOn } from '../common/hooks';
import { MarkdownPreview } from '../common/markdownpreview';
import { ISegmentedChoice, SegmentedButtons } from '../common/segmented';
import { useTranslation } from '../common/translation';
import { WrittenBy } from '../common/writtenby';
import { useLLMBlocked } from '../sidecar/llmgate';
import { IEntity } from './entitiesapi';
import { NoteEntities } from './entitiesmodel';
import { EntityPopover } from './entityview';
import { NoteDraft, SaveState } from './notedraft';
import { NotesModel } from './notesmodel';

export type NoteViewMode = 'edit' | 'split' | 'preview';

function viewModes(
  trans: TranslationBundle
): ReadonlyArray<ISegmentedChoice<NoteViewMode>> {
  return [
    {
      value: 'edit',
      label: trans.__('Edit'),
      title: trans.__('Edit the markdown')
    },
    {
      value: 'split',
      label: trans.__('Split'),
      title: trans.__('Edit beside the preview')
    },
    {
      value: 'preview',
      label: trans.__('Preview'),
      title: trans.__('Only the rendered note')
    }
  ];
}

function saveLabel(state: SaveState, trans: TranslationBundle): string {
  switch (state) {
    case 'saved':
      return trans.__('Saved');
    case 'dirty':
      return trans.__('Unsaved');
    case 'saving':
      return trans.__('Saving…');
    case 'conflict':
      return trans.__('Conflict');
    case 'error':
      return trans.__('Not saved');
  }
}

export interface INotesViewProps {
  model: NotesModel;
  rendermime: IRenderMimeRegistry;
  /** Opens a file at a line, or a note; rejects with a message for the user. */
  onOpenSource: (source: ISource) => Promise<void>;
}

/** Ask before deleting a note; resolves to whether the user agreed. */
async function confirmDelete(
  title: string,
  trans: TranslationBundle
): Promise<boolean> {
  const result = await showDialog({
    title: trans.__('Delete note?'),
    body: trans.__(
      'Delete “%1”? This cannot be undone.',
      title || trans.__('Untitled')
    ),
    buttons: [
      Dialog.cancelButton(),
      Dialog.warnButton({ label: trans.__('Delete') })
    ]
  });
  return result.button.accept;
}

/** The Notes panel: filter, list and the open note's editor. */
export function NotesView(props: INotesViewProps): JSX.Element {
  const { model, rendermime, onOpenSource } = props;
  const trans = useTranslation();
  useRerenderOn(model.changed);
  useClock();
  const [mode, setMode] = React.useState<NoteViewMode>('edit');
  // A research report opened from its panel shows rendered, citations as links.
  React.useEffect(() => {
    if (model.takePreviewRequest()) {
      setMode('preview');
    }
  });
  const draft = model.draft;
  const entities = model.entities;
  const [openError, attempt, dismissOpenError] = useActionError();
  const query = model.query.trim();

  const onDelete = async (note: { id: number; title: string }) => {
    if (await confirmDelete(note.title, trans)) {
      await model.remove(note.id);
    }
  };

  return (
    <div
      className={`jp-Workspace-notes${draft ? ' jp-mod-editing' : ''}`}
      aria-label={trans.__('Notes')}
    >
      <div className="jp-Workspace-toolbar">
        <input
          type="search"
          className="jp-Workspace-noteFilter jp-Workspace-input"
          placeholder={trans.__('Filter notes')}
          aria-label={trans.__('Filter notes (full text)')}
          value={model.query}
          onChange={event => model.setQuery(event.target.value)}
        />
        <Button
          type="button"
          className="jp-Workspace-newNote jp-Workspace-iconButton"
          onClick={() => void model.create()}
          aria-label={trans.__('New note')}
          title={trans.__('New note')}
        >
          <addIcon.react tag="span" />
        </Button>
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
      <ul className="jp-Workspace-noteList" aria-label={trans.__('Notes')}>
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
            {query
              ? trans.__('No notes match the filter.')
              : trans.__('No notes yet.')}
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
  const trans = useTranslation();
  // The open note's title follows the editor before the save lands.
  const title = (draft ? draft.title : note.title) || trans.__('Untitled');
  return (
    <li
      className={`jp-Workspace-noteItem${draft ? ' jp-mod-selected' : ''}`}
      data-id={note.id}
    >
      <Button
        type="button"
        className="jp-Workspace-noteOpen"
        onClick={onOpen}
        aria-current={draft ? 'true' : undefined}
        title={title}
      >
        <span className="jp-Workspace-noteItemTitle">{title}</span>
        <WrittenBy writer={note.written_by} />
        <time
          className="jp-Workspace-noteUpdated"
          dateTime={note.updated}
          title={trans.__('Updated %1', Time.format(note.updated))}
        >
          {Time.formatHuman(note.updated)}
        </time>
      </Button>
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
  const trans = useTranslation();
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
      aria-label={trans.__('Note editor')}
    >
      <div className="jp-Workspace-noteHeader">
        <input
          ref={titleInput}
          className="jp-Workspace-noteTitle jp-Workspace-input"
          value={draft.title}
          placeholder={trans.__('Title')}
          aria-label={trans.__('Note title')}
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
        <Button
          type="button"
          className="jp-Workspace-closeNote jp-Workspace-iconButton"
          onClick={onClose}
          aria-label={trans.__('Close note')}
          title={trans.__('Close note')}
        >
          <closeIcon.react tag="span" />
        </Button>
      </div>
      <div className="jp-Workspace-noteTools">
        <SegmentedButtons
          label={trans.__('View')}
          attribute="data-mode"
          choices={viewModes(trans)}
          value={mode}
          onChange={onModeChange}
        />
        <span
          className="jp-Workspace-saveState"
          data-state={state}
          role="status"
          aria-live="polite"
        >
          {saveLabel(state, trans)}
        </span>
        <Button
          type="button"
          className="jp-Workspace-deleteNote jp-Workspace-iconButton"
          onClick={props.onDelete}
          aria-label={trans.__('Delete note')}
          title={trans.__('Delete note')}
        >
          <deleteIcon.react tag="span" />
        </Button>
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
            {trans.__(
              'This note was changed elsewhere while you were editing it; your last changes are not saved.'
            )}
          </span>
          <span className="jp-Workspace-bannerActions">
            <Button
              type="button"
              className="jp-Workspace-textButton jp-Workspace-reloadNote"
              onClick={() => draft.reload()}
            >
              {trans.__('Reload theirs')}
            </Button>
            <Button
              type="button"
              className="jp-Workspace-textButton jp-Workspace-overwriteNote"
              onClick={() => void draft.overwrite()}
            >
              {trans.__('Keep mine')}
            </Button>
          </span>
        </Banner>
      )}
      {state === 'error' && (
        <Banner kind="error">
          <span>{trans.__('Could not save: %1', draft.error)}</span>
          <span className="jp-Workspace-bannerActions">
            <Button
              type="button"
              className="jp-Workspace-textButton"
              onClick={() => void draft.flush()}
            >
              {trans.__('Retry')}
            </Button>
          </span>
        </Banner>
      )}
      <div className={`jp-Workspace-noteContent jp-mod-${mode}`}>
        {mode !== 'preview' && (
          <textarea
            className="jp-Workspace-noteBody"
            value={draft.body}
            placeholder={trans.__('Write Markdown…')}
            aria-label={trans.__('Note body (Markdown)')}
            onChange={event => draft.setBody(event.target.value)}
          />
        )}
        {mode !== 'edit' && (
          <MarkdownPreview
            rendermime={rendermime}
            source={draft.body}
            entities={entities.entities}
            onOpenEntity={(entity, anchor) => setOpenEntity({ entity, anchor })}
            onOpenCitation={props.onOpenSource}
            onSourceChange={body => {
              // A ticked box is saved at once, with the revision it is based
              // on: a change made elsewhere meanwhile is a conflict, not lost.
              draft.setBody(body);
              void draft.flush();
            }}
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
  const trans = useTranslation();
  const count = entities.entities.length;
  const outcome = entities.refineOutcome;
  const llmBlocked = useLLMBlocked(trans);
  return (
    <>
      <div className="jp-Workspace-noteEntityBar">
        <span
          className="jp-Workspace-entityCount"
          role="status"
          aria-live="polite"
          title={trans.__(
            'People, organisations, components, ids, files and symbols the note mentions; the preview links them'
          )}
        >
          {count === 0
            ? trans.__('No entities found')
            : trans._n('%1 entity', '%1 entities', count)}
        </span>
        <Button
          type="button"
          className="jp-Workspace-textButton jp-Workspace-refineEntities"
          disabled={entities.refining || !!llmBlocked}
          aria-busy={entities.refining}
          title={
            llmBlocked ||
            trans.__(
              'Ask the configured LLM which people, organisations, components and ids this note mentions'
            )
          }
          onClick={() => void onRefine()}
        >
          {entities.refining
            ? trans.__('Refining…')
            : trans.__('Refine entities with the LLM')}
        </Button>
      </div>
      {entities.error && (
        <Banner kind="error" onDismiss={() => entities.dismissError()}>
          {trans.__("Cannot list the note's entities: %1", entities.error)}
        </Banner>
      )}
      {outcome && (
        <div className="jp-Workspace-refineOutcome" data-ok={outcome.ok}>
          <Banner
            kind={outcome.ok ? 'info' : 'error'}
            onDismiss={() => entities.dismissRefineOutcome()}
          >
            {outcome.ok
              ? trans._n(
                  'Refined with the LLM: the note mentions %1 entity.',
                  'Refined with the LLM: the note mentions %1 entities.',
                  outcome.found
                )
              : outcome.message}
          </Banner>
        </div>
      )}
    </>
  );
}
