import { CHAT_HISTORY_FILE, type ChatMessage, type RuntimeResult, type StepSpec } from '@sandfleet/contracts';
import type { ChatRepository } from '@sandfleet/db';
import type { SandboxRuntimeFile } from '@sandfleet/sandbox';
import { EngineError } from './errors.js';

/** Most prior turns handed to a chat step. */
const MAX_HISTORY_TURNS = 500;

/**
 * The chat side of a `kind: chat` step: before it runs, records the user's message (its input)
 * and hands the runtime the prior conversation; after it succeeds, records the reply. A session
 * belongs to the agent that started it: a step of another agent (a raw job that skipped the
 * API's check) ends in `CHAT_SESSION_CONFLICT` before it reads or writes a turn.
 */
export class ChatTurns {
  readonly #chats: ChatRepository;

  constructor(chats: ChatRepository) {
    this.#chats = chats;
  }

  /**
   * Records the user turn; returns the prior conversation as a runtime file (none for other kinds).
   * @throws EngineError `CHAT_SESSION_CONFLICT` when another agent owns the session.
   */
  async before(spec: StepSpec & { id: string }): Promise<SandboxRuntimeFile[]> {
    const sessionId = spec.chatSessionId;
    if (spec.kind !== 'chat' || !sessionId) return [];
    const owner = await this.#chats.claimSession(sessionId, spec.agentId);
    if (owner !== spec.agentId) {
      throw new EngineError(
        'CHAT_SESSION_CONFLICT',
        `chat session ${sessionId} belongs to another agent than ${spec.agentId}`,
        { context: { stepId: spec.id, agentId: spec.agentId } },
      );
    }
    const prior = await this.#chats.list(sessionId, { excludeStepId: spec.id, limit: MAX_HISTORY_TURNS });
    await this.#chats.append({
      sessionId,
      agentId: spec.agentId,
      role: 'user',
      content: userText(spec.input),
      stepId: spec.id,
    });
    const history: ChatMessage[] = prior.map((turn) => ({
      role: turn.role,
      content: turn.content,
      stepId: turn.stepId,
      createdAt: turn.createdAt.toISOString(),
    }));
    return [{ name: CHAT_HISTORY_FILE, content: JSON.stringify(history) }];
  }

  /** Records the assistant turn: the runtime's reply, else what the step printed on stdout. */
  async after(
    spec: StepSpec & { id: string },
    runtime: RuntimeResult | undefined,
    stdout: string,
  ): Promise<void> {
    const sessionId = spec.chatSessionId;
    if (spec.kind !== 'chat' || !sessionId) return;
    await this.#chats.append({
      sessionId,
      agentId: spec.agentId,
      role: 'assistant',
      content: runtime?.reply ?? stdout.replace(/\n$/, ''),
      stepId: spec.id,
    });
  }
}

function userText(input: unknown): string {
  if (input === undefined) return '';
  return typeof input === 'string' ? input : JSON.stringify(input);
}
