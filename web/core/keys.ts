/**
 * Conversation keys: one string per open conversation, a salon (`s:` and its
 * name) or a direct conversation (`d:` and the other user's username).
 *
 * @module
 */

/** A conversation key. */
export type ConversationKey = `s:${string}` | `d:${string}`;

/** The key of a salon. */
export function salonKey(name: string): ConversationKey {
  return `s:${name}`;
}

/** The key of a direct conversation with `username`. */
export function directKey(username: string): ConversationKey {
  return `d:${username}`;
}

/** What a key names: the salon or the other user, as request fields. */
export function target(key: ConversationKey): { salon: string } | { with: string } {
  return key.startsWith("s:") ? { salon: key.slice(2) } : { with: key.slice(2) };
}

/** The salon name or username the key names. */
export function keyName(key: ConversationKey): string {
  return key.slice(2);
}
