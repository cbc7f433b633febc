/** Hour-level and event-level scores of a detector against labelled hours. */
export interface Scores {
  hours: number;
  labelled: number;
  flagged: number;
  truePositives: number;
  precision: number;
  recall: number;
  f1: number;
  events: number;
  eventsFound: number;
  eventRecall: number;
}

/** Runs of consecutive labelled hours: [first, last] indices. */
export function labelledEvents(labels: readonly boolean[]): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let from = -1;
  for (let i = 0; i <= labels.length; i++) {
    if (i < labels.length && labels[i]) {
      if (from < 0) from = i;
    } else if (from >= 0) {
      out.push([from, i - 1]);
      from = -1;
    }
  }
  return out;
}

/** An event counts as found when at least one of its hours is flagged. */
export function score(flags: readonly boolean[], labels: readonly boolean[]): Scores {
  let tp = 0;
  let flagged = 0;
  let labelled = 0;
  for (let i = 0; i < labels.length; i++) {
    if (flags[i]) flagged++;
    if (labels[i]) labelled++;
    if (flags[i] && labels[i]) tp++;
  }
  const events = labelledEvents(labels);
  const found = events.filter(([a, b]) => {
    for (let i = a; i <= b; i++) if (flags[i]) return true;
    return false;
  }).length;
  const precision = flagged ? tp / flagged : 0;
  const recall = labelled ? tp / labelled : 0;
  return {
    hours: labels.length,
    labelled,
    flagged,
    truePositives: tp,
    precision,
    recall,
    f1: precision + recall ? (2 * precision * recall) / (precision + recall) : 0,
    events: events.length,
    eventsFound: found,
    eventRecall: events.length ? found / events.length : 0,
  };
}

/** Pooled scores over several series (sums of counts, then the ratios). */
export function pool(all: readonly Scores[]): Scores {
  const s = all.reduce(
    (a, b) => ({ hours: a.hours + b.hours, labelled: a.labelled + b.labelled, flagged: a.flagged + b.flagged, tp: a.tp + b.truePositives, events: a.events + b.events, found: a.found + b.eventsFound }),
    { hours: 0, labelled: 0, flagged: 0, tp: 0, events: 0, found: 0 },
  );
  const precision = s.flagged ? s.tp / s.flagged : 0;
  const recall = s.labelled ? s.tp / s.labelled : 0;
  return {
    hours: s.hours,
    labelled: s.labelled,
    flagged: s.flagged,
    truePositives: s.tp,
    precision,
    recall,
    f1: precision + recall ? (2 * precision * recall) / (precision + recall) : 0,
    events: s.events,
    eventsFound: s.found,
    eventRecall: s.events ? s.found / s.events : 0,
  };
}
