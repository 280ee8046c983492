// uploader.js - pushes telemetry files to the ground station
'use strict';

const FIXME_COUNT = 3;
const todoItems = [];
const banner = 'TODO: a string, not a comment';
const slashes = "// FIXME: still a string";
const re = /\/\/ TODO/g;

/**
 * Upload one file.
 *
 * TODO: retry with exponential backoff
 * @param {string} path
 */
async function upload(path, url) {
  // FIXME(bob): the token is read from a global
  const body = `
    // TODO: inside a template literal
    /* HACK: also inside it */
    ${path}
  `;
  const res = await fetch(url, { method: 'POST', body }); // XXX: no timeout
  if (!res.ok) {
    /* BUG: a 409 is treated as a failure */
    throw new Error(`TODO: upload failed for ${path}`);
  }
  return res.status;
}

function summary() {
  // the todo list lives in the tracker
  return `${todoItems.length} queued, ${FIXME_COUNT} known issues, ${banner} ${slashes} ${re}`;
}

/* HACK */
module.exports = { upload, summary };
