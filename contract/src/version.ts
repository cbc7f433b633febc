/** Bumped on any incompatible change to topics or payloads; it is part of every topic and payload. */
export const CONTRACT_VERSION = 1 as const;
export const TOPIC_ROOT = `warden/v${CONTRACT_VERSION}` as const;
