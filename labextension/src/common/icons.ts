/**
 * The icons of jupyter-workspace, one place for every `LabIcon`: the
 * sidebar tabs, the panels' titles and the settings editor use them by name.
 */
import { LabIcon } from '@jupyterlab/ui-components';

import chatSvg from '../../style/icons/chat.svg';
import pipelinesSvg from '../../style/icons/pipelines.svg';
import problemsSvg from '../../style/icons/problems.svg';
import researchSvg from '../../style/icons/research.svg';
import searchSvg from '../../style/icons/search.svg';
import workspaceSvg from '../../style/icons/workspace.svg';

/** The Workspace sidebar's (notes and tasks) and the settings' icon. */
export const workspaceIcon = new LabIcon({
  name: 'jupyter-workspace:workspace',
  svgstr: workspaceSvg
});

export const searchPanelIcon = new LabIcon({
  name: 'jupyter-workspace:search',
  svgstr: searchSvg
});

export const chatIcon = new LabIcon({
  name: 'jupyter-workspace:chat',
  svgstr: chatSvg
});

export const pipelinesIcon = new LabIcon({
  name: 'jupyter-workspace:pipelines',
  svgstr: pipelinesSvg
});

/** The Problems panel's: build and test failures. */
export const problemsIcon = new LabIcon({
  name: 'jupyter-workspace:problems',
  svgstr: problemsSvg
});

/** The Research panel's: questions answered by a background job. */
export const researchIcon = new LabIcon({
  name: 'jupyter-workspace:research',
  svgstr: researchSvg
});
