import type { AlertKind } from './detector.ts';

/**
 * Each alert explains itself: a message key with its parameters (the console renders them in its
 * language), and the sentence in English and Chinese for logs, notifications and the API.
 */
export interface AlertText {
  key: string;
  params: Record<string, string | number>;
  en: string;
  zh: string;
}

const when = (ts: number): string => new Date(ts).toISOString().slice(0, 16).replace('T', ' ');

export function explain(kind: AlertKind, from: number, to: number, n: Readonly<Record<string, number>>, unit: string): AlertText {
  const p: Record<string, string | number> = { ...n, unit, from: when(from), to: when(to) };
  const span = `${p.from}–${p.to} UTC`;
  const key = `energy.anomaly.${kind}`;
  switch (kind) {
    case 'spike':
      return {
        key,
        params: p,
        en: `${n.actual} ${unit} used over ${n.hours} h (${span}) against ${n.expected} ${unit} usual for this kind of day and hour (${n.ratio ?? '∞'}×, z ${n.peakZ}); highest hour ${n.highest} ${unit}`,
        zh: `${span} 共 ${n.hours} 小时用量 ${n.actual} ${unit}，同类日同时段通常为 ${n.expected} ${unit}（${n.ratio ?? '∞'} 倍，z=${n.peakZ}）；最高一小时 ${n.highest} ${unit}`,
      };
    case 'drop':
      return {
        key,
        params: p,
        en: `only ${n.actual} ${unit} over ${n.hours} h (${span}) against ${n.expected} ${unit} usual for this kind of day and hour (${n.ratio ?? 0}×, z ${n.peakZ}); lowest hour ${n.lowest} ${unit}`,
        zh: `${span} 共 ${n.hours} 小时用量仅 ${n.actual} ${unit}，同类日同时段通常为 ${n.expected} ${unit}（${n.ratio ?? 0} 倍，z=${n.peakZ}）；最低一小时 ${n.lowest} ${unit}`,
      };
    case 'dropout':
      return {
        key,
        params: p,
        en: `the meter reported almost nothing for ${n.hours} h (${span}): ${n.actual} ${unit} where ${n.expected} ${unit} is usual; a failed meter, a cut supply or a building shut down`,
        zh: `${span} 共 ${n.hours} 小时计量几乎为零：${n.actual} ${unit}，通常为 ${n.expected} ${unit}；表计故障、断供或楼宇停运`,
      };
    case 'flat':
      return {
        key,
        params: p,
        en: `the reading stayed at ${n.value} ${unit} for ${n.hours} h (${span}) while use normally varies (${n.expected} ${unit} expected); a frozen meter or converter`,
        zh: `${span} 读数连续 ${n.hours} 小时保持 ${n.value} ${unit} 不变，而用量通常会变化（预期 ${n.expected} ${unit}）；表计或采集器可能卡滞`,
      };
    case 'missing':
      return {
        key,
        params: p,
        en: `no readings for ${n.hours} h (${span})`,
        zh: `${span} 共 ${n.hours} 小时没有读数`,
      };
    case 'night_base_load':
      return {
        key,
        params: p,
        en: `${n.average} ${unit}/h on average over ${n.hours} night hours (${span}); this building's base load is ${n.baseLoad} and its daytime use ${n.dayUse} ${unit}/h, alert above ${n.threshold}: equipment, lighting or HVAC left running`,
        zh: `${span} 夜间 ${n.hours} 小时平均 ${n.average} ${unit}/小时；该楼基础负荷 ${n.baseLoad}、白天用量 ${n.dayUse} ${unit}/小时，告警阈值 ${n.threshold}：设备、照明或空调可能未关`,
      };
    case 'leak':
      return {
        key,
        params: p,
        en: `water flow never fell below ${n.minimum} ${unit}/h during the nights of ${span} (${n.actual} ${unit} over ${n.hours} h); a continuous night flow means a leak`,
        zh: `${span} 夜间用水从未低于 ${n.minimum} ${unit}/小时（${n.hours} 小时共 ${n.actual} ${unit}）；夜间持续流量意味着漏水`,
      };
  }
}
