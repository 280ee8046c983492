/**
 * Who last wrote a note or task when it was not the user: an agent over MCP
 * (`mcp:<client name>`). The name comes from the client, so it is shown as
 * text only.
 */
import * as React from 'react';

import { useTranslation } from './translation';

/** A badge with the agent's name; nothing when a person wrote it last. */
export function WrittenBy(props: {
  writer: string | null | undefined;
}): JSX.Element | null {
  const { writer } = props;
  const trans = useTranslation();
  if (!writer) {
    return null;
  }
  const description = trans.__('Last written by the agent %1', writer);
  return (
    <span
      className="jp-Workspace-writtenBy"
      data-written-by={writer}
      title={description}
    >
      {writer}
    </span>
  );
}
