// What runs a learner's environment (issue 14): the reserve controller asks a runtime to
// start one for an Environment object, reads what each is doing, and stops it. An
// interface so the chart installs and the controller is tested whatever runs inside:
// PodEnvironmentRuntime makes a pod from the chart's environment-pod.yaml (svclab's node
// image, a nested kind node); FakeEnvironmentRuntime keeps them in memory for tests.

export type EnvironmentState = 'starting' | 'ready' | 'failed';

export interface EnvironmentInfo {
  state: EnvironmentState;
  /** Where it runs, when known (the pod and its node). */
  pod?: string;
  node?: string;
  /** Why it failed, or what it waits for, in words an instructor can act on. */
  message?: string;
}

/** The Environment object a runtime starts for (its pod is owned by it, so deleting one deletes the other). */
export interface EnvironmentRef {
  name: string;
  uid: string;
}

export interface EnvironmentRuntime {
  /** Names the runtime in logs and status ("nested-kind-pod", "fake"). */
  readonly kind: string;
  start(env: EnvironmentRef): Promise<void>;
  /** Every environment of this workshop the runtime holds, by Environment name; one missing is gone. */
  inspectAll(): Promise<Map<string, EnvironmentInfo>>;
  /** false when it was already gone. */
  stop(name: string): Promise<boolean>;
}
