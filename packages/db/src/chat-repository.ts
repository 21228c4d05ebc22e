import type { ChatMessage } from '@sandfleet/contracts';
import type { Kysely } from 'kysely';
import type { Database } from './database.js';
import { DbError, toDbError } from './errors.js';
import { toPgText } from './pg-value.js';

/** A turn to record: the user's message or the assistant's reply of one step. */
export interface NewChatMessage {
  sessionId: string;
  agentId: string;
  role: ChatMessage['role'];
  content: string;
  stepId: string;
}

/** A recorded turn. */
export interface ChatMessageRecord extends NewChatMessage {
  id: number;
  createdAt: Date;
}

export interface ChatRepositoryOptions {
  db: Kysely<Database>;
  isClosed?: () => boolean;
}

/** Rows of table `chat_messages`, oldest first per session. */
export class ChatRepository {
  readonly #db: Kysely<Database>;
  readonly #isClosed: () => boolean;

  constructor(options: ChatRepositoryOptions) {
    this.#db = options.db;
    this.#isClosed = options.isClosed ?? (() => false);
  }

  /** Records a turn. Idempotent per step and role: a retried step does not add it twice. */
  async append(message: NewChatMessage): Promise<{ inserted: boolean }> {
    return this.#run(message.stepId, async () => {
      const rows = await this.#db
        .insertInto('chat_messages')
        .values({
          session_id: message.sessionId,
          agent_id: message.agentId,
          role: message.role,
          content: toPgText(message.content),
          step_id: message.stepId,
        })
        .onConflict((conflict) => conflict.columns(['step_id', 'role']).doNothing())
        .returning('id')
        .execute();
      return { inserted: rows.length > 0 };
    });
  }

  /**
   * Records `agentId` as the owner of `sessionId` unless it has one; returns the owner (the
   * agent that started the session, which may be another one).
   */
  async claimSession(sessionId: string, agentId: string): Promise<string> {
    return this.#run(undefined, async () => {
      const inserted = await this.#db
        .insertInto('chat_sessions')
        .values({ session_id: sessionId, agent_id: agentId })
        .onConflict((conflict) => conflict.column('session_id').doNothing())
        .returning('agent_id')
        .executeTakeFirst();
      return inserted?.agent_id ?? ((await this.sessionOwner(sessionId)) as string);
    });
  }

  /** The agent owning `sessionId`, or undefined for a session not started yet. */
  async sessionOwner(sessionId: string): Promise<string | undefined> {
    return this.#run(undefined, async () => {
      const row = await this.#db
        .selectFrom('chat_sessions')
        .select('agent_id')
        .where('session_id', '=', sessionId)
        .executeTakeFirst();
      return row?.agent_id;
    });
  }

  /** The session's turns in the order they were recorded; `excludeStepId` leaves out that step's own. */
  async list(
    sessionId: string,
    options: { excludeStepId?: string; limit?: number } = {},
  ): Promise<ChatMessageRecord[]> {
    return this.#run(undefined, async () => {
      let query = this.#db.selectFrom('chat_messages').selectAll().where('session_id', '=', sessionId);
      if (options.excludeStepId !== undefined) query = query.where('step_id', '!=', options.excludeStepId);
      const rows = await query
        .orderBy('id', 'asc')
        .limit(options.limit ?? 1000)
        .execute();
      return rows.map((row) => ({
        id: Number(row.id),
        sessionId: row.session_id,
        agentId: row.agent_id,
        role: row.role,
        content: row.content,
        stepId: row.step_id,
        createdAt: row.created_at,
      }));
    });
  }

  async #run<T>(stepId: string | undefined, work: () => Promise<T>): Promise<T> {
    const context = stepId === undefined ? {} : { stepId };
    if (this.#isClosed()) throw new DbError('DATABASE_CLOSED', 'database is closed', { context });
    try {
      return await work();
    } catch (error) {
      throw toDbError(error, context);
    }
  }
}
