import type { ChatMessageRecord, ChatRepository } from '@sandfleet/db';
import { forbidden, isAllowed, type Principal } from './step-scope.js';

/** Dependencies of {@link listChatMessages}. */
export interface ListChatMessagesDeps {
  chats: Pick<ChatRepository, 'list' | 'sessionOwner'>;
}

/**
 * A chat session's messages, oldest first, when `principal` may see the agent owning it. A
 * session nobody started has no messages.
 * @throws StepsError `FORBIDDEN` (naming `sessionId`) for a session of another agent.
 */
export async function listChatMessages(
  deps: ListChatMessagesDeps,
  sessionId: string,
  principal?: Principal,
): Promise<ChatMessageRecord[]> {
  if (principal?.scope.agents !== undefined) {
    const owner = await deps.chats.sessionOwner(sessionId);
    if (owner === undefined) return [];
    if (!isAllowed(principal, 'agents', owner)) throw forbidden('sessionId', principal);
  }
  return deps.chats.list(sessionId);
}
