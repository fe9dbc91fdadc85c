// One catalogue for every error a user can see: what happened, the HTTP status
// it maps to, and a hint saying what to do next.

export type ErrorCode = keyof typeof catalogue;

interface CatalogueEntry {
  httpStatus: number;
  message: string;
  hint: string;
}

const catalogue = {
  TOKEN_MISSING: { httpStatus: 401, message: 'This request carries no svclab token.', hint: 'Open the URL that `npm start` printed: it ends with ?token=…' },
  TOKEN_WRONG: { httpStatus: 401, message: 'The svclab token does not match this runner.', hint: 'The runner makes a new token each time it starts; open the URL it printed last.' },
  ORIGIN_FORBIDDEN: { httpStatus: 403, message: 'The WebSocket upgrade came from a page that is not the svclab site.', hint: 'Open the terminal from the svclab site the runner printed.' },
  SESSION_UNKNOWN: { httpStatus: 404, message: 'There is no session with this id.', hint: 'The runner may have restarted; press Start lab to begin a new session.' },
  SESSION_STARTING: { httpStatus: 409, message: 'This lab session is still starting.', hint: 'Wait until the lab panel says ready; your text is kept.' },
  SESSION_LIMIT: { httpStatus: 429, message: 'The runner already holds as many sessions as it allows.', hint: 'End a session you no longer use, or raise --max-sessions.' },
  LAB_UNKNOWN: { httpStatus: 404, message: 'There is no lab with this id.', hint: 'Run `svclab labs list` to see the lab ids.' },
  STEP_UNKNOWN: { httpStatus: 404, message: 'This lab has no step with this id.', hint: 'Run `svclab labs show LAB` to see its steps.' },
  STEP_LOCKED: { httpStatus: 403, message: 'This step is not open yet: the instructor opens the steps one at a time.', hint: 'Finish the open steps; this one unlocks when the instructor opens it for the room.' },
  NOT_A_WORKSHOP: { httpStatus: 409, message: 'This runner is not running a workshop, so there is no session deadline to change.', hint: 'Start a workshop with `svclab workshop start --expires 2h`; without one, sessions end after an hour without use.' },
  LAB_INVALID: { httpStatus: 500, message: 'A lab file is not valid.', hint: 'Run `svclab labs lint` for the file, line and field.' },
  BAD_REQUEST: { httpStatus: 400, message: 'The request is not valid.', hint: 'See the details for the field that is wrong.' },
  FRAME_INVALID: { httpStatus: 400, message: 'A terminal frame was not understood.', hint: 'Frames are JSON objects with a known "type"; reload the page if this repeats.' },
  FRAME_TOO_LARGE: { httpStatus: 413, message: 'A terminal frame is larger than 1 MiB.', hint: 'Paste large files through the YAML editor instead of the terminal.' },
  RESIZE_INVALID: { httpStatus: 400, message: 'A terminal resize asked for an impossible size.', hint: 'Columns must be 1–1000 and rows 1–500.' },
  YAML_INVALID: { httpStatus: 400, message: 'The YAML could not be parsed.', hint: 'Fix the marked line; tabs are not allowed for indentation and keys must be unique.' },
  NO_CLUSTER: { httpStatus: 409, message: 'There is no Kubernetes cluster for this session yet.', hint: 'Run `svclab images build` then `svclab up`, or press Start lab once a cluster is available. Your editor text is kept.' },
  APPLY_REJECTED: { httpStatus: 422, message: 'The cluster rejected the manifest.', hint: 'Read the server message; the editor marks the line it refers to when it can.' },
  DOCKER_MISSING: { httpStatus: 503, message: 'Docker is not installed.', hint: 'As root: apt-get install -y docker.io. Then run `svclab doctor`.' },
  DOCKER_DOWN: { httpStatus: 503, message: 'The Docker daemon is not running.', hint: 'As root: run `svclab doctor --fix`, or start dockerd yourself (dockerd &).' },
  IMAGE_MISSING: { httpStatus: 503, message: 'A container image svclab needs has not been built.', hint: 'Run `svclab images build`.' },
  IMAGE_STALE: { httpStatus: 503, message: 'A container image is older than its recipe.', hint: 'Run `svclab images build` to rebuild what changed.' },
  IMAGE_BUILD_FAILED: { httpStatus: 500, message: 'An image build failed.', hint: 'The output tail is in the details; fix the cause and run `svclab images build` again.' },
  COMMAND_FAILED: { httpStatus: 500, message: 'A command failed.', hint: 'The command and its output tail are in the details.' },
  COMMAND_TIMEOUT: { httpStatus: 504, message: 'A command did not finish in time.', hint: 'The machine may be busy; try again, and see the details for the command.' },
  WORKSTATION_FAILED: { httpStatus: 500, message: 'The workstation container could not be started.', hint: 'Run `svclab doctor`; the details hold docker\'s message.' },
  CHECK_INVALID: { httpStatus: 400, message: 'A check is not valid.', hint: 'Run `svclab labs lint`.' },
  PROXY_MODE_UNSUPPORTED: { httpStatus: 400, message: 'This kube-proxy mode cannot run on this machine.', hint: 'Use --proxy-mode iptables or nftables.' },
  CLUSTER_EXISTS: { httpStatus: 409, message: 'A cluster with this name already exists.', hint: 'Pick another --name, or run `svclab down --name NAME` first.' },
  CLUSTER_UNKNOWN: { httpStatus: 404, message: 'There is no cluster with this name.', hint: 'Run `svclab status` to list clusters.' },
  CLUSTER_FAILED: { httpStatus: 500, message: 'The cluster could not be created.', hint: 'The failing step and its output are in the details; run `svclab down --all` to clean up.' },
  POOL_TOO_BIG: { httpStatus: 400, message: 'The warm pool was asked for more clusters than the memory budget holds.', hint: 'Ask for fewer clusters (--pool N) or give the pool more memory (--pool-memory GiB).' },
  POOL_TIMEOUT: { httpStatus: 503, message: 'No cluster became free in time.', hint: 'Every pooled cluster is in use; press Start lab again in a few minutes, or ask the instructor to grow the pool.' },
  POOL_CLOSED: { httpStatus: 503, message: 'The runner is stopping; no cluster can be claimed.', hint: 'Start the runner again (npm start) and press Start lab.' },
  INVALID_ARGUMENT: { httpStatus: 400, message: 'An argument is not valid.', hint: 'Run `svclab --help`.' },
  DISK_LOW: { httpStatus: 507, message: 'There is not enough free disk space.', hint: 'Free at least 10 GiB (docker system prune removes unused images).' },
  INTERNAL: { httpStatus: 500, message: 'Something went wrong inside the runner.', hint: 'This is a bug; the runner log has the details.' },
} satisfies Record<string, CatalogueEntry>;

export interface RunnerErrorJson {
  code: ErrorCode;
  message: string;
  hint: string;
  details?: unknown;
}

export class RunnerError extends Error {
  readonly code: ErrorCode;
  readonly httpStatus: number;
  readonly hint: string;
  readonly details: unknown;

  // `message` and `hint` default to the catalogue's text; callers add specifics.
  constructor(code: ErrorCode, opts: { message?: string; hint?: string; details?: unknown; cause?: unknown } = {}) {
    const entry: CatalogueEntry = catalogue[code];
    super(opts.message ?? entry.message, { cause: opts.cause });
    this.name = 'RunnerError';
    this.code = code;
    this.httpStatus = entry.httpStatus;
    this.hint = opts.hint ?? entry.hint;
    this.details = opts.details;
  }

  toJSON(): RunnerErrorJson {
    const json: RunnerErrorJson = { code: this.code, message: this.message, hint: this.hint };
    if (this.details !== undefined) json.details = this.details;
    return json;
  }
}

export function isRunnerError(e: unknown): e is RunnerError {
  return e instanceof RunnerError;
}

export function catalogueEntry(code: ErrorCode): CatalogueEntry {
  return catalogue[code];
}

export const errorCodes = Object.keys(catalogue) as ErrorCode[];
