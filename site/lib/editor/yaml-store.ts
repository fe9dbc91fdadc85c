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
