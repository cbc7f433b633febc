export * from './calendar.ts';
export * from './detector.ts';
export * from './evaluate.ts';
export * from './messages.ts';
export * from './robust-z.ts';
export * from './series.ts';
export * from './stats.ts';
