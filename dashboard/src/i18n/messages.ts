import type { zh } from './zh.ts';

/** Chinese is the reference catalogue; every other language must have exactly its shape. */
export type Messages = typeof zh;
