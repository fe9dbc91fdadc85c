// The editor's manifests as LabActions sees them: which documents the learner
// typed (ParsedManifest, parsed by the HTTP layer), their live counterparts for the
// diff view, and which document a server message is about.
import { stringify as stringifyYaml } from 'yaml';

/** One document of the editor's YAML: what it is and the line it starts on. */
export interface ParsedManifest {
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string;
  line: number;
}

/** One editor document's live counterpart, for the editor's diff view. */
export interface LiveObject {
  kind: string;
  apiVersion: string;
  name: string;
  namespace?: string;
  /** The editor line where this document starts. */
  line: number;
  /** The object as the cluster has it (what a learner can compare), or null when it does not exist. */
  live: string | null;
}

/** Find the document a server message talks about, to mark its line in the editor. */
export function lineForServerError(message: string, manifests: readonly ParsedManifest[]): number | undefined {
  const byName = manifests.filter((m) => message.includes(`"${m.name}"`) || message.includes(`/${m.name}`) || message.includes(` ${m.name} `));
  const exact = byName.find((m) => message.toLowerCase().includes(m.kind.toLowerCase()));
  return (exact ?? byName[0] ?? (manifests.length === 1 ? manifests[0] : undefined))?.line;
}

const NOISE_METADATA = ['managedFields', 'uid', 'resourceVersion', 'creationTimestamp', 'generation', 'selfLink'];

/** The live object without status and the fields the server fills in, as YAML. */
export function liveYaml(obj: Record<string, unknown>): string {
  const copy = structuredClone(obj);
  delete copy.status;
  const meta = copy.metadata as Record<string, unknown> | undefined;
  if (meta) {
    for (const k of NOISE_METADATA) delete meta[k];
    const ann = meta.annotations as Record<string, string> | undefined;
    if (ann) {
      delete ann['kubectl.kubernetes.io/last-applied-configuration'];
      if (!Object.keys(ann).length) delete meta.annotations;
    }
  }
  return stringifyYaml(copy, { lineWidth: 0 });
}

/** Pair each editor document with the object `kubectl get -o json` returned for it. */
export function matchLive(manifests: readonly ParsedManifest[], items: readonly Record<string, unknown>[]): LiveObject[] {
  return manifests.map((m) => {
    const found = items.find((o) => {
      const meta = (o.metadata ?? {}) as { name?: string; namespace?: string };
      return o.kind === m.kind && meta.name === m.name && (m.namespace === undefined || meta.namespace === undefined || meta.namespace === m.namespace);
    });
    return { kind: m.kind, apiVersion: m.apiVersion, name: m.name, ...(m.namespace ? { namespace: m.namespace } : {}), line: m.line, live: found ? liveYaml(found) : null };
  });
}
