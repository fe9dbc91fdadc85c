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
  SESSION_LIMIT: { httpStatus: 429, message: 'The runner already holds as many sessions as it allows.', hint: 'End a lab session you no longer use (its lab page, Reset / End), then press Start lab again; the runner holds at most 20 sessions at once.' },
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
  NOT_FOUND: { httpStatus: 404, message: 'There is nothing at this address.', hint: 'Open the URL the runner printed and follow the links from there; API routes are listed in runner/API.md.' },
  MEDIA_TYPE_UNSUPPORTED: { httpStatus: 415, message: 'The request body is in a format this route does not take.', hint: 'Send the body as JSON with the header Content-Type: application/json (YAML goes inside it, e.g. {"yaml": "…"}).' },
  URL_TOO_LONG: { httpStatus: 414, message: 'A part of the URL is too long.', hint: 'Ids in the URL are at most 100 characters; use the ids the API returned.' },
  BODY_TOO_LARGE: { httpStatus: 413, message: 'The request body is too large (2 MiB at most).', hint: 'Send less at a time: the editor takes up to 1 MiB of YAML.' },
  SERVER_BUSY: { httpStatus: 429, message: 'The runner is busy with other large requests.', hint: 'Try again in a few seconds.' },
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
  HOST_FORBIDDEN: { httpStatus: 421, message: 'This request names a host this runner does not serve.', hint: 'Open the address the runner printed (npm start or svclab workshop start); another name for the same machine is refused so that other web pages cannot reach the runner (DNS rebinding).' },
  CROSS_SITE_FORBIDDEN: { httpStatus: 403, message: 'A request that changes something came from a page that is not the svclab site.', hint: 'Use the svclab page the runner printed; other sites cannot act on your labs.' },
  SESSION_FORBIDDEN: { httpStatus: 403, message: 'This session belongs to another learner.', hint: 'Open your own lab from the lab index; each learner reaches only their own sessions, terminals and progress.' },
  INSTRUCTOR_ONLY: { httpStatus: 403, message: 'Only the instructor may do this.', hint: 'Open the instructor URL that `svclab workshop start` printed.' },
  JOIN_REQUIRED: { httpStatus: 401, message: 'Join the workshop first.', hint: 'Open the learner URL your instructor gave you and enter the event code and your name.' },
  CREDENTIAL_INVALID: { httpStatus: 401, message: 'Your workshop pass is not valid (changed, from another workshop, or expired).', hint: 'Open the learner URL again and join; your work is kept with your name only while your pass is valid.' },
  CODE_WRONG: { httpStatus: 403, message: 'That event code is not right.', hint: 'Check the code your instructor shows; letters and digits, no spaces.' },
  JOIN_RATE_LIMITED: { httpStatus: 429, message: 'Too many wrong event codes from this address.', hint: 'Wait the time stated, then type the code exactly as the instructor shows it.' },
  WORKSHOP_FULL: { httpStatus: 409, message: 'This workshop is full.', hint: 'Every place is taken; tell the instructor (the number of places is set when the workshop starts, with --capacity).' },
  WORKSHOP_ENDED: { httpStatus: 410, message: 'This workshop has ended.', hint: 'Ask the instructor whether it will be extended (svclab workshop extend).' },
  LAB_NOT_IN_WORKSHOP: { httpStatus: 403, message: 'This lab is not part of the workshop.', hint: 'Pick one of the workshop\'s labs from the lab index.' },
  LEARNER_SESSION_LIMIT: { httpStatus: 429, message: 'You already have as many lab sessions as a learner may hold.', hint: 'Go back to a lab you started, or end one (Reset / End) before starting another.' },
  WORKSHOP_NOT_RUNNING: { httpStatus: 404, message: 'No workshop is running on this machine.', hint: 'Start one with `svclab workshop start --labs 02,06 --capacity N --reserve R --expires 2h`.' },
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
