// Per-tab memory in sessionStorage, keyed by lab: the lab's session id (a reload finds its
// workstation again, a new tab starts fresh) and the terminal tab the learner had open.

export type SessionStore = { get(): string | null; set(id: string): void; clear(): void };

/** sessionStorage, or undefined where the page may not use it (sandboxed frames, privacy modes). */
export function tabStorage(): Storage | undefined {
  try {
    return globalThis.sessionStorage;
  } catch {
    return undefined;
  }
}

/** One key of a storage that may refuse to be used: reads give null, writes are best effort. */
export function storedValue(storage: Storage | undefined, key: string): SessionStore {
  return {
    get() {
      try {
        return storage?.getItem(key) ?? null;
      } catch {
        return null;
      }
    },
    set(value) {
      try {
        storage?.setItem(key, value);
      } catch {
        /* private mode: it still works until reload */
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

export function sessionStore(storage: Storage | undefined, labId: string): SessionStore {
  return storedValue(storage, `svclab:session:${labId}`);
}

/** The terminal tab the learner picked last (a reload comes back to it). */
export function terminalTabStore(storage: Storage | undefined, labId: string): SessionStore {
  return storedValue(storage, `svclab:terminal:${labId}`);
}
