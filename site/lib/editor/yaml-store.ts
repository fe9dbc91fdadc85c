// The learner's YAML per lab and step, in localStorage, written on every change so that a
// reload (or a crash) never loses typing. Storage failures (quota, privacy mode) are ignored:
// the text stays in the editor.

export function yamlKey(labId: string, stepId: string): string {
  return `svclab:yaml:${labId}:${stepId}`;
}

export function loadYaml(storage: Storage | undefined, labId: string, stepId: string): string | null {
  try {
    return storage?.getItem(yamlKey(labId, stepId)) ?? null;
  } catch {
    return null;
  }
}

export function saveYaml(storage: Storage | undefined, labId: string, stepId: string, text: string): void {
  try {
    storage?.setItem(yamlKey(labId, stepId), text);
  } catch {
    /* quota or disabled storage: keep going */
  }
}

/** 1-based positions of tab characters used as indentation (YAML forbids them). */
export function tabIndents(text: string): { line: number; column: number }[] {
  const found: { line: number; column: number }[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const lead = /^[ \t]*/.exec(lines[i] ?? '')?.[0] ?? '';
    const at = lead.indexOf('\t');
    if (at >= 0) found.push({ line: i + 1, column: at + 1 });
  }
  return found;
}
