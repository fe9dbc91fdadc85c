// `svclab new lab NN-name`: a lab folder that lints, whose one check fails on a
// fresh cluster and passes after its solution, with a lesson stub in English and
// Chinese. Inside the svclab checkout the lessons go where the site reads them
// (site/content/docs/[zh-cn/]labs/NN-name.md); in a course directory elsewhere,
// where lessons are optional and there is no site, they sit in the lab folder as
// README.md and README.zh-cn.md (same front matter, so they can move to a site as is).
import { mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { RunnerError } from '../errors.ts';
import { labIdPattern } from '../labs/lab-schema.ts';

export interface ScaffoldOptions {
  /** The lab id and folder name, NN-name. */
  id: string;
  /** The folder that holds the lab folders (svclab's own `labs/`, or a course directory). */
  labsDir: string;
  /** Where lesson pages go: the site's content folders, or inside the lab folder. */
  lessons: { kind: 'site'; enDir: string; zhDir: string } | { kind: 'in-lab' };
  /** lab.yaml's first line points editors here (a path relative to the lab folder is computed). */
  schemaFile: string;
}

export interface ScaffoldResult {
  dir: string;
  /** Every file written, absolute. */
  files: string[];
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(() => true, () => false);
}

/** Refuses a bad name or an existing lab with what and a hint; writes nothing then. */
export async function scaffoldLab(opts: ScaffoldOptions): Promise<ScaffoldResult> {
  const { id } = opts;
  if (!labIdPattern.test(id)) {
    const suggestion = suggestId(id);
    throw new RunnerError('INVALID_ARGUMENT', {
      message: `"${id}" is not a lab name: a lab is named NN-name (two digits, a dash, then lower-case letters, digits and dashes).`,
      hint: suggestion ? `Try: svclab new lab ${suggestion}` : 'Example: svclab new lab 13-my-first-lab',
    });
  }
  if (!(await exists(opts.labsDir))) {
    throw new RunnerError('INVALID_ARGUMENT', {
      message: `The labs folder ${opts.labsDir} does not exist.`,
      hint: `Create it first (mkdir -p ${opts.labsDir}), or pass the course directory that holds the lab folders with --labs DIR.`,
    });
  }
  const dir = path.join(opts.labsDir, id);
  const lessonFiles = opts.lessons.kind === 'site'
    ? { en: path.join(opts.lessons.enDir, `${id}.md`), zh: path.join(opts.lessons.zhDir, `${id}.md`) }
    : { en: path.join(dir, 'README.md'), zh: path.join(dir, 'README.zh-cn.md') };
  const sameNumber = await labsNumbered(opts.labsDir, id.slice(0, 2));
  for (const taken of [dir, ...(opts.lessons.kind === 'site' ? [lessonFiles.en, lessonFiles.zh] : [])]) {
    if (await exists(taken)) {
      throw new RunnerError('INVALID_ARGUMENT', {
        message: `${taken} already exists; svclab new lab never overwrites a lab or a lesson.`,
        hint: `Pick another name, or remove ${taken} first if it is a leftover.${sameNumber.length ? ` Lab number ${id.slice(0, 2)} is taken by: ${sameNumber.join(', ')}.` : ''}`,
      });
    }
  }

  const words = id.slice(3).split('-').filter(Boolean);
  const title = words.join(' ').replace(/^./, (c) => c.toUpperCase());
  const schemaRef = path.relative(dir, opts.schemaFile).split(path.sep).join('/');
  const files: Record<string, string> = {
    [path.join(dir, 'lab.yaml')]: labYaml(id, title, schemaRef),
    [path.join(dir, 'manifests', 'deployment.yaml')]: deploymentYaml,
    [path.join(dir, 'solution', 'service.yaml')]: serviceYaml,
    [lessonFiles.en]: lessonEn(id, title),
    [lessonFiles.zh]: lessonZh(id, title),
  };
  if (opts.lessons.kind === 'site') files[path.join(dir, 'README.md')] = authorReadme(id, title);
  for (const [file, text] of Object.entries(files)) {
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, text, { flag: 'wx' });
  }
  return { dir, files: Object.keys(files) };
}

/** A likely intended id for a near miss ("my lab" → none, "7-Foo_Bar" → 07-foo-bar). */
export function suggestId(name: string): string | undefined {
  const m = /^(\d{1,2})[-_ ]?(.+)$/.exec(name.trim());
  if (!m) return undefined;
  const rest = m[2]!.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '');
  const candidate = `${m[1]!.padStart(2, '0')}-${rest}`;
  return labIdPattern.test(candidate) && candidate !== name ? candidate : undefined;
}

async function labsNumbered(labsDir: string, nn: string): Promise<string[]> {
  const names = await readdir(labsDir).catch(() => [] as string[]);
  return names.filter((n) => n.startsWith(`${nn}-`)).sort();
}

function labYaml(id: string, title: string, schemaRef: string): string {
  return `# yaml-language-server: $schema=${schemaRef}
# ${id}: one sentence for authors on what this lab teaches.
# Made by \`svclab new lab\`: a Deployment "hello" and a step whose check fails until
# a Service "hello" selects its pods. Replace it with your own; \`svclab labs lint\`
# checks the file and \`svclab validate ${id}\` proves each check fails before its
# step's solution and passes after it.
id: ${id}
title:
  en: ${title}
  zh: ${title}（待翻译）
summary:
  en: >-
    Put a Service in front of the hello pods and watch it get endpoints.
  zh: >-
    给 hello 这组 Pod 建一个 Service，看它拿到 endpoint。
setup:
  manifests:
    - manifests/deployment.yaml

steps:
  - id: expose-hello
    title:
      en: Give the hello pods a Service
      zh: 给 hello Pod 建一个 Service
    checks:
      - id: hello-has-endpoints
        kind: endpoints
        description:
          en: Service hello in namespace default has at least one ready endpoint
          zh: default 命名空间里的 Service hello 至少有一个就绪的 endpoint
        service: hello
        minReady: 1
        deadlineSeconds: 60
        intervalSeconds: 3
        hint:
          en: "\`kubectl expose deployment hello --port 80\` makes a Service that selects the Deployment's pods."
          zh: "\`kubectl expose deployment hello --port 80\` 会建一个选中该 Deployment 的 Pod 的 Service。"
    hints:
      - en: "\`kubectl get pods --show-labels\` shows the labels a Service selector can match."
        zh: "\`kubectl get pods --show-labels\` 会列出 Service 选择器可以匹配的标签。"
    solution:
      manifests:
        - solution/service.yaml
`;
}

const deploymentYaml = `# Two hello pods; no Service selects them yet, so the lab's check fails at first.
apiVersion: apps/v1
kind: Deployment
metadata:
  name: hello
  namespace: default
spec:
  replicas: 2
  selector:
    matchLabels:
      app: hello
  template:
    metadata:
      labels:
        app: hello
    spec:
      containers:
        - name: web
          # Built locally from images/web; there is no registry to pull from.
          image: svclab/web:latest
          imagePullPolicy: Never
          ports:
            - name: http
              containerPort: 80
          readinessProbe:
            httpGet:
              path: /healthz
              port: http
            periodSeconds: 2
          resources:
            requests:
              cpu: 10m
              memory: 16Mi
            limits:
              memory: 64Mi
`;

const serviceYaml = `# The step's solution: a Service selecting the hello pods.
apiVersion: v1
kind: Service
metadata:
  name: hello
  namespace: default
spec:
  selector:
    app: hello
  ports:
    - name: http
      port: 80
      targetPort: http
`;

function lessonEn(id: string, title: string): string {
  return `---
title: "Lab ${id.slice(0, 2)}: ${title}"
description: One sentence on what the learner does and learns in this lab.
lab: ${id}
tableOfContents: false
---

## Goal

Deployment \`hello\` runs two pods. Give them a Service and watch it get endpoints.

## Concepts

Explain here what the learner needs before the steps.

## Steps

1. **Give the hello pods a Service.** The check passes when Service \`hello\` has a ready endpoint.
`;
}

function lessonZh(id: string, title: string): string {
  return `---
title: "实验 ${id.slice(0, 2)}：${title}（待翻译）"
description: 用一句话说明学员在这个实验里做什么、学到什么。
lab: ${id}
tableOfContents: false
---

## 目标

Deployment \`hello\` 跑着两个 Pod。给它们建一个 Service，看它拿到 endpoint。

## 核心概念

在这里写学员做实验之前需要知道的内容。

## 步骤

1. **给 hello Pod 建一个 Service。** Service \`hello\` 有一个就绪的 endpoint 时，检查通过。
`;
}

function authorReadme(id: string, title: string): string {
  return `# ${id.slice(0, 2)} · ${title}

Notes for authors: what the lab sets up, and what each step's checks look at.

| step | the learner | the checks pass when |
| --- | --- | --- |
| \`expose-hello\` | creates a Service for the hello pods | Service \`hello\` has at least one ready endpoint (\`endpoints\`) |
`;
}
