/**
 * The MIME extension of jupyter-workspace (package.json, `jupyterlab.mimeExtension`):
 * the `%workspace` magics' results tables in notebook and console outputs.
 */
import type { IRenderMime } from '@jupyterlab/rendermime';

import { RESULTS_MIME_TYPE, ResultsRenderer } from './resultsview';

const extension: IRenderMime.IExtension = {
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

export default extension;
