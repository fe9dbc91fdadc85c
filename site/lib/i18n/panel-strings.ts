// Every string the lab panel shows, per page language. The panel's markup is rendered at
// build time with these; the client code receives the same object as JSON.
import { en } from './panel-strings-en.ts';
import type { PanelStrings } from './panel-strings-shape.ts';
import { zhCN } from './panel-strings-zh.ts';

export type { PanelStrings };

export const panelStrings: Record<'en' | 'zh-CN', PanelStrings> = { en, 'zh-CN': zhCN };

export function stringsFor(lang: string): PanelStrings {
  return lang.toLowerCase().startsWith('zh') ? panelStrings['zh-CN'] : panelStrings.en;
}

/** The language key lab.yaml uses for this page language. */
export function labLang(lang: string): 'en' | 'zh' {
  return lang.toLowerCase().startsWith('zh') ? 'zh' : 'en';
}
