/**
 * The MIME extensions of jupyter-workspace (package.json, `jupyterlab.mimeExtension`):
 * the `%workspace` magics' results tables and markdown in notebook and console outputs.
 */
import type { IRenderMime } from '@jupyterlab/rendermime';

import {
  HostileMarkdownRenderer,
  MARKDOWN_MIME_TYPE
} from '../common/hostilemarkdown';
import { ANSWER_MIME_TYPE, AnswerRenderer } from './answerview';
import { RESULTS_MIME_TYPE, ResultsRenderer } from './resultsview';

const results: IRenderMime.IExtension = {
  id: 'jupyter-workspace:results-renderer',
  description:
    'Renders the results tables of the %workspace magics, with links that open files at their lines.',
  rendererFactory: {
    // Every value is rendered as text: safe in untrusted notebooks too.
    safe: true,
    mimeTypes: [RESULTS_MIME_TYPE],
    createRenderer: options => new ResultsRenderer(options)
  },
  // Ahead of text/html (50), which the magics send next to it for other frontends.
  rank: 10,
  dataType: 'json'
};

const markdown: IRenderMime.IExtension = {
  id: 'jupyter-workspace:markdown-renderer',
  description:
    'Renders the notes and answers the %workspace magics show, always sanitized.',
  rendererFactory: {
    // Always sanitized, whatever the output's trust: safe in untrusted notebooks too.
    safe: true,
    mimeTypes: [MARKDOWN_MIME_TYPE],
    createRenderer: options => new HostileMarkdownRenderer(options)
  },
  // Ahead of text/plain, which the magics send next to it for other frontends.
  rank: 10,
  dataType: 'string'
};

const answer: IRenderMime.IExtension = {
  id: 'jupyter-workspace:answer-renderer',
  description:
    'Renders the answers of %workspace ask and chat, their citations and sources opening files at their lines.',
  rendererFactory: {
    // Sanitized markdown and text-only links: safe in untrusted notebooks too.
    safe: true,
    mimeTypes: [ANSWER_MIME_TYPE],
    createRenderer: options => new AnswerRenderer(options)
  },
  // Ahead of the workspace markdown (10) and text/plain sent next to it.
  rank: 5,
  dataType: 'json'
};

export default [results, markdown, answer];
