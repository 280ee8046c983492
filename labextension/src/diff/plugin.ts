/**
 * The Apply plugin: code from a chat answer applied to a file as a reviewed
 * diff. The chat's _Apply…_ button runs `workspace:apply-code` with the code,
 * the file its fence names (`python src/a.py`) and the files the answer cites;
 * without a named file the user is asked (the cited one offered).
 */
import {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import {
  InputDialog,
  MainAreaWidget,
  Notification
} from '@jupyterlab/apputils';
import { IDocumentManager } from '@jupyterlab/docmanager';
import { ITranslator } from '@jupyterlab/translation';

import { CommandIDs } from '../commands';
import { errorMessage } from '../common/request';
import { loadTranslation } from '../common/translation';
import { DiffPanel, IFileAccess, readText } from './diffview';
import { namedPath, safePath } from './proposal';

export const diffPlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyter-workspace:apply-diff',
  description:
    "Apply a chat answer's code to a file as a diff reviewed hunk by hunk.",
  autoStart: true,
  requires: [IDocumentManager],
  optional: [ITranslator],
  activate: (
    app: JupyterFrontEnd,
    docManager: IDocumentManager,
    translator: ITranslator | null
  ): void => {
    const trans = loadTranslation(translator);
    const contents = app.serviceManager.contents;
    const files: IFileAccess = {
      contents,
      hasUnsavedChanges: path => {
        const widget = docManager.findWidget(path);
        return !!(widget && docManager.contextForWidget(widget)?.model.dirty);
      },
      reloadOpen: path => {
        const widget = docManager.findWidget(path);
        const context = widget && docManager.contextForWidget(widget);
        void context?.revert();
      }
    };

    /** The file to apply to: the fence's, else asked (the cited file offered). */
    const target = async (
      named: string,
      cited: ReadonlyArray<string>
    ): Promise<string | null> => {
      const path = namedPath(named);
      if (path) {
        return path;
      }
      const answer = await InputDialog.getText({
        title: trans.__('Apply the code to which file?'),
        label: trans.__('Path relative to the served folder'),
        text: cited[0] ?? '',
        placeholder: trans.__('src/module.py'),
        okLabel: trans.__('Review the diff')
      });
      if (!answer.button.accept || !answer.value) {
        return null;
      }
      const chosen = safePath(answer.value);
      if (!chosen) {
        Notification.error(
          trans.__(
            '“%1” is not a path inside the served folder (no leading /, no ..).',
            answer.value
          ),
          { autoClose: 8000 }
        );
      }
      return chosen;
    };

    app.commands.addCommand(CommandIDs.applyCode, {
      label: trans.__('Apply Code to a File…'),
      caption: trans.__(
        'Review the change a code block makes to a file, hunk by hunk, then write it'
      ),
      describedBy: {
        args: {
          type: 'object',
          properties: {
            code: { type: 'string' },
            path: { type: 'string' },
            cited: { type: 'array', items: { type: 'string' } }
          },
          required: ['code']
        }
      },
      execute: async args => {
        const code = typeof args.code === 'string' ? args.code : '';
        const cited = Array.isArray(args.cited)
          ? args.cited.filter((p): p is string => typeof p === 'string')
          : [];
        const path = await target(
          typeof args.path === 'string' ? args.path : '',
          cited
        );
        if (!path) {
          return;
        }
        try {
          const original = await readText(contents, path, trans);
          const content = new DiffPanel({ path, code, original, files }, trans);
          const widget = new MainAreaWidget({ content });
          widget.id = `jp-Workspace-diff-${Date.now()}`;
          widget.title.label = trans.__(
            'Apply: %1',
            path.split('/').pop() ?? path
          );
          widget.title.caption = trans.__('Apply code to %1', path);
          widget.title.closable = true;
          app.shell.add(widget, 'main');
          app.shell.activateById(widget.id);
        } catch (error) {
          Notification.error(
            trans.__('Cannot open %1: %2', path, errorMessage(error)),
            { autoClose: 8000 }
          );
        }
      }
    });
  }
};
