/**
 * Typed calls to the coordinator's entity routes (docs/api.md, "Entities"):
 * the people, organisations, components, ids, files and symbols that files
 * and notes mention.
 */
import type { ITask } from '../common/api';
import { requestAPI } from '../common/request';

/** An entity: `kind` is `person`, `requirement`, … or a configured pattern's. */
export interface IEntity {
  id: number;
  kind: string;
  name: string;
  /** How often it is mentioned, and in how many files and notes. */
  mentions: number;
  sources: number;
}

/** Where an entity is mentioned: a file or `@notes/<id>`, at a line. */
export interface IMention {
  source: string;
  line: number;
  snippet: string;
  /** Found by the indexing rules, or by the LLM (refine). */
  origin: 'rules' | 'llm';
}

/** `GET entities/{id}`: an entity and everything that mentions it. */
export interface IEntityDetails {
  entity: IEntity;
  mentions: IMention[];
  notes: Array<{ id: number; title: string }>;
  tasks: ITask[];
  files: string[];
  /** For a `file` entity, the workspace files its name stands for. */
  paths: string[];
}

/** The `source` of a note's mentions and detected tasks. */
export function noteSource(id: number): string {
  return `@notes/${id}`;
}

/** The entities mentioned in a file or note, most mentioned first. */
export async function listEntities(
  source: string,
  limit = 200
): Promise<IEntity[]> {
  const params = new URLSearchParams({ source, limit: String(limit) });
  const answer = await requestAPI<{ entities: IEntity[] }>(
    `entities?${params.toString()}`
  );
  return answer.entities;
}

export function getEntity(id: number): Promise<IEntityDetails> {
  return requestAPI<IEntityDetails>(`entities/${id}`);
}

/**
 * Ask the configured LLM for a note's entities.
 *
 * @throws WorkspaceRequestError: 503 while the AI sidecar is unavailable, 502
 *   when the LLM fails or answers nonsense
 */
export async function refineEntities(note: number): Promise<IEntity[]> {
  const answer = await requestAPI<{ entities: IEntity[] }>('entities/refine', {
    method: 'POST',
    body: JSON.stringify({ note })
  });
  return answer.entities;
}
