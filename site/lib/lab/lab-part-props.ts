// What LabPanel.astro hands each part of the panel: the page's strings and the ids it may use.
import type { PanelStrings } from '../i18n/panel-strings.ts';

export type LabPartProps = {
  s: PanelStrings;
  /** `svclab-<lab>-<part>`: element ids unique per lab on the page. */
  id: (part: string) => string;
};
