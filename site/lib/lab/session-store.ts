// The lab's session id lives in sessionStorage (per tab), keyed by lab, so a reload finds its
// workstation again and a new tab starts fresh.

export type SessionStore = { get(): string | null; set(id: string): void; clear(): void };

export function sessionStore(storage: Storage | undefined, labId: string): SessionStore {
  const key = `svclab:session:${labId}`;
  return {
    get() {
      try {
        return storage?.getItem(key) ?? null;
      } catch {
        return null;
      }
    },
    set(id) {
      try {
        storage?.setItem(key, id);
      } catch {
        /* private mode: the session still works until reload */
      }
    },
    clear() {
      try {
        storage?.removeItem(key);
      } catch {
        /* ignore */
      }
    },
  };
}
