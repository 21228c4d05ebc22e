import * as z from 'zod';

/** One message of a chat session as the API serves it. */
export const ChatMessageView = z.object({
  role: z.enum(['user', 'assistant']),
  content: z.string(),
  /** The step the message belongs to: the one it started (user) or the one that wrote it (assistant). */
  stepId: z.string(),
  agentId: z.string(),
  createdAt: z.iso.datetime({ offset: true }),
});
export type ChatMessageView = z.infer<typeof ChatMessageView>;

/** `GET /v1/chats/{sessionId}/messages`: the session's messages, oldest first. */
export const ChatMessageList = z.object({ items: z.array(ChatMessageView) });
export type ChatMessageList = z.infer<typeof ChatMessageList>;
