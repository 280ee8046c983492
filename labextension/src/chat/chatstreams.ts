/**
 * The answers streaming in, whichever conversation is open.
 *
 * Every tab sees every stream (`chat.*` events are broadcast), so each answer
 * is buffered here by its stream id until its `chat.done` / `chat.error`; the
 * ids of ended streams are remembered so that late echoes are not tracked again.
 */
import { ISourceRef } from '../search/searchapi';

/** An answer arriving token by token. */
export interface IStream {
  readonly id: string;
  readonly conversationId: number;
  /** The text received so far. */
  text: string;
  /** True when this tab missed the start of the answer (opened mid-stream). */
  joinedLate: boolean;
  /** True once Stop was pressed, until the stream ends. */
  stopping: boolean;
  /** The passages the answer is grounded on (`chat.context`), `null` until known. */
  sources: ISourceRef[] | null;
}

/** How many ended streams' ids are remembered. */
const ENDED_KEPT = 500;

export class ChatStreams {
  /** The stream with this id, if it is tracked. */
  get(id: string): IStream | undefined {
    return this._streams.get(id);
  }

  /** The stream answering in a conversation, if this tab knows one. */
  of(conversationId: number): IStream | null {
    for (const stream of this._streams.values()) {
      if (stream.conversationId === conversationId) {
        return stream;
      }
    }
    return null;
  }

  /** The ids of the streams tracked now. */
  ids(): Set<string> {
    return new Set(this._streams.keys());
  }

  /** Whether the stream's `chat.done` / `chat.error` has arrived. */
  hasEnded(id: string): boolean {
    return this._ended.has(id);
  }

  /** The stream with this id; tracked from now on unless it has ended. */
  ensure(id: string, conversationId: number, joinedLate: boolean): IStream {
    let stream = this._streams.get(id);
    if (this._ended.has(id)) {
      // A late echo of an answer that has ended: not tracked.
      return {
        id,
        conversationId,
        text: '',
        joinedLate,
        stopping: false,
        sources: null
      };
    }
    if (!stream) {
      stream = {
        id,
        conversationId,
        text: '',
        joinedLate,
        stopping: false,
        sources: null
      };
      this._streams.set(id, stream);
    }
    return stream;
  }

  /** The stream has ended: no longer tracked, and never again. */
  end(id: string): void {
    this._streams.delete(id);
    this._ended.add(id);
    if (this._ended.size > ENDED_KEPT) {
      // Sets iterate in insertion order: forget the oldest.
      const oldest = this._ended.values().next().value;
      if (oldest !== undefined) {
        this._ended.delete(oldest);
      }
    }
  }

  /** Stop tracking a stream that ended unseen (e.g. while the socket was down). */
  forget(id: string): void {
    this._streams.delete(id);
  }

  /** Stop tracking the streams of a deleted conversation. */
  forgetConversation(conversationId: number): void {
    for (const [id, stream] of this._streams) {
      if (stream.conversationId === conversationId) {
        this._streams.delete(id);
      }
    }
  }

  /** After a reconnect: tokens may have been missed while the socket was down. */
  markJoinedLate(): void {
    for (const stream of this._streams.values()) {
      stream.joinedLate = true;
    }
  }

  private _streams = new Map<string, IStream>();
  private _ended = new Set<string>();
}
