/**
 * The plugins of jupyter-workspace: the core client every panel requires
 * (`IWorkspaceClient`, exported for other extensions), one plugin per
 * feature, and the magics loader.
 */
import { JupyterFrontEndPlugin } from '@jupyterlab/application';

import { chatPlugin } from './chat/plugin';
import { clientPlugin } from './common/client';
import { diffPlugin } from './diff/plugin';
import { magicsLoaderPlugin } from './magics/magicsloader';
import { notesPlugin } from './notes/plugin';
import { pipelinesPlugin } from './pipelines/plugin';
import { problemsPlugin } from './problems/plugin';
import { recoveryPlugin } from './recovery/plugin';
import { researchPlugin } from './research/plugin';
import { searchPlugin } from './search/plugin';
import { sidecarPlugin } from './sidecar/plugin';
import { symbolsPlugin } from './symbols/plugin';

export { IWorkspaceClient } from './tokens';

const plugins: JupyterFrontEndPlugin<unknown>[] = [
  clientPlugin,
  notesPlugin,
  searchPlugin,
  pipelinesPlugin,
  problemsPlugin,
  researchPlugin,
  chatPlugin,
  sidecarPlugin,
  symbolsPlugin,
  diffPlugin,
  recoveryPlugin,
  magicsLoaderPlugin
];

export default plugins;
