// Every string the instructor page shows, per page language. The board's markup is rendered at
// build time with these; the client code receives the same object as JSON.

export type BoardLang = 'en' | 'zh';

export type BoardStrings = {
  loading: string;
  noScript: string;
  refreshNote: string;
  updated: string;
  staleUpdated: string;
  paused: string;
  pause: string;
  retryNow: string;
  retryIn: string;
  poolHeading: string;
  poolSize: string;
  poolSizeNow: string;
  countsLabel: string;
  clusterStates: Record<string, string>;
  clustersCaption: string;
  colCluster: string;
  colState: string;
  colFor: string;
  colLearner: string;
  nobody: string;
  noClusters: string;
  waitingNone: string;
  waitingOne: string;
  waitingMany: string;
  provisionMeasured: string;
  provisionEstimate: string;
  sharedCluster: string;
  learnersHeading: string;
  learnersCaption: string;
  colLab: string;
  colSteps: string;
  colIdle: string;
  learnersNone: string;
  learnersSummary: string;
  sessionStates: Record<string, string>;
  waitLine: string;
  waitLineEta: string;
  onCluster: string;
  steps: string;
  stepsWithHelp: string;
  unknown: string;
  seconds: string;
  minutes: string;
  minutesSeconds: string;
  hoursMinutes: string;
  announce: string;
  announceNoPool: string;
  announceBack: string;
  errors: Record<'unreachable' | 'not-runner' | 'token' | 'failed', { message: string; hint: string }>;
  errorCode: string;
};

const en: BoardStrings = {
  loading: 'Asking the runner for its status…',
  noScript: 'This page needs JavaScript: it asks the runner for its status every 5 seconds.',
  refreshNote: 'Refreshes every 5 seconds while this page is visible.',
  updated: 'Updated {time}.',
  staleUpdated: 'Showing the status from {time}.',
  paused: 'Updates are paused.',
  pause: 'Pause updates',
  retryNow: 'Try again now',
  retryIn: 'Trying again in {t}.',
  poolHeading: 'Warm pool',
  poolSize: 'Pool size: {size} {clusters}.',
  poolSizeNow: 'Pool size: {size} {clusters} ({n} right now).',
  countsLabel: 'Clusters by state',
  clusterStates: { ready: 'ready', claimed: 'claimed', provisioning: 'provisioning', recycling: 'recycling', deleting: 'deleting' },
  clustersCaption: 'Clusters in the pool',
  colCluster: 'Cluster',
  colState: 'State',
  colFor: 'For',
  colLearner: 'Learner',
  nobody: 'none',
  noClusters: 'The pool has no clusters yet.',
  waitingNone: 'No learner is waiting for a cluster.',
  waitingOne: '1 learner is waiting for a cluster.',
  waitingMany: '{n} learners are waiting for a cluster.',
  provisionMeasured: 'Average provisioning time: {t} (measured over {n} {nclusters}).',
  provisionEstimate: 'Average provisioning time: about {t} (estimate; none provisioned yet).',
  sharedCluster: 'One shared cluster (svclab-main); start with --pool for one cluster per learner.',
  learnersHeading: 'Learners',
  learnersCaption: 'Learners and their labs, sorted by lab, then learner',
  colLab: 'Lab',
  colSteps: 'Steps done',
  colIdle: 'Idle',
  learnersNone: 'No learner has started a lab yet. Learners appear here when they press Start lab.',
  learnersSummary: '{n} sessions: {ready} ready, {waiting} waiting.',
  sessionStates: { waiting: 'waiting', claiming: 'claiming a cluster', starting: 'starting', applying: 'setting up the lab', ready: 'ready', failed: 'failed' },
  waitLine: 'number {position} in line, no estimate yet',
  waitLineEta: 'number {position} in line, about {t}',
  onCluster: 'on {cluster}',
  steps: '{n}',
  stepsWithHelp: '{n} ({help} with help)',
  unknown: 'unknown',
  seconds: '{s} s',
  minutes: '{m} min',
  minutesSeconds: '{m} min {s} s',
  hoursMinutes: '{h} h {m} min',
  announce: 'Pool: {ready} ready, {claimed} claimed, {provisioning} provisioning. Learners: {n} sessions, {waiting} waiting.',
  announceNoPool: 'Learners: {n} sessions on one shared cluster.',
  announceBack: 'The runner answers again.',
  errors: {
    unreachable: {
      message: 'Cannot reach the svclab runner.',
      hint: 'Start the runner with npm start or svclab start --pool auto, then open the URL it prints (with its token).',
    },
    'not-runner': {
      message: 'This page is not served by the svclab runner, so there is no status to show.',
      hint: 'Start the runner with npm start or svclab start --pool auto, then open /instructor/ on the address it prints.',
    },
    token: {
      message: 'The runner did not accept this page’s token.',
      hint: 'Open the URL the runner printed last (it ends with ?token=…), then come back to this page. The token changes each time the runner starts.',
    },
    failed: {
      message: 'The runner could not report its status.',
      hint: 'The runner’s log (in the terminal where you ran npm start or svclab start) says why; this page keeps trying.',
    },
  },
  errorCode: 'Error code: {code}',
};

const zh: BoardStrings = {
  loading: '正在向运行器查询状态…',
  noScript: '本页需要 JavaScript：它每 5 秒向运行器查询一次状态。',
  refreshNote: '页面可见时每 5 秒刷新一次。',
  updated: '更新于 {time}。',
  staleUpdated: '显示的是 {time} 的状态。',
  paused: '已暂停更新。',
  pause: '暂停更新',
  retryNow: '立即重试',
  retryIn: '{t}后重试。',
  poolHeading: '预热集群池',
  poolSize: '池大小：{size} 个集群。',
  poolSizeNow: '池大小：{size} 个集群（当前 {n} 个）。',
  countsLabel: '各状态的集群数',
  clusterStates: { ready: '就绪', claimed: '已分配', provisioning: '创建中', recycling: '回收中', deleting: '删除中' },
  clustersCaption: '池中的集群',
  colCluster: '集群',
  colState: '状态',
  colFor: '持续',
  colLearner: '学员',
  nobody: '无',
  noClusters: '池中还没有集群。',
  waitingNone: '没有学员在等待集群。',
  waitingOne: '1 位学员在等待集群。',
  waitingMany: '{n} 位学员在等待集群。',
  provisionMeasured: '平均创建时间：{t}（实测，共 {n} 个集群）。',
  provisionEstimate: '平均创建时间：约 {t}（估计值，尚未创建过集群）。',
  sharedCluster: '所有学员共用一个集群（svclab-main）；用 --pool 启动可为每位学员分配一个集群。',
  learnersHeading: '学员',
  learnersCaption: '学员及其实验，按实验、再按学员排序',
  colLab: '实验',
  colSteps: '已完成步骤',
  colIdle: '空闲',
  learnersNone: '还没有学员开始实验。学员点击“开始实验”后会出现在这里。',
  learnersSummary: '{n} 个会话：{ready} 个就绪，{waiting} 个在等待。',
  sessionStates: { waiting: '等待中', claiming: '正在分配集群', starting: '正在启动', applying: '正在准备实验', ready: '就绪', failed: '失败' },
  waitLine: '排第 {position} 位，暂无预计时间',
  waitLineEta: '排第 {position} 位，约 {t}',
  onCluster: '在 {cluster} 上',
  steps: '{n}',
  stepsWithHelp: '{n}（{help} 步借助了帮助）',
  unknown: '未知',
  seconds: '{s} 秒',
  minutes: '{m} 分钟',
  minutesSeconds: '{m} 分 {s} 秒',
  hoursMinutes: '{h} 小时 {m} 分',
  announce: '集群池：{ready} 个就绪，{claimed} 个已分配，{provisioning} 个创建中。学员：{n} 个会话，{waiting} 个在等待。',
  announceNoPool: '学员：共用一个集群的 {n} 个会话。',
  announceBack: '运行器已恢复响应。',
  errors: {
    unreachable: {
      message: '无法连接 svclab 运行器。',
      hint: '用 npm start 或 svclab start --pool auto 启动运行器，然后打开它打印的网址（带令牌）。',
    },
    'not-runner': {
      message: '本页不是由 svclab 运行器提供的，因此没有状态可显示。',
      hint: '用 npm start 或 svclab start --pool auto 启动运行器，然后在它打印的地址上打开 /zh-cn/instructor/。',
    },
    token: {
      message: '运行器不接受本页的令牌。',
      hint: '打开运行器最近打印的网址（以 ?token=… 结尾），再回到本页。运行器每次启动都会换一个令牌。',
    },
    failed: {
      message: '运行器无法报告它的状态。',
      hint: '运行器的日志（在你运行 npm start 或 svclab start 的终端里）会说明原因；本页会继续重试。',
    },
  },
  errorCode: '错误代码：{code}',
};

export function boardStrings(lang: BoardLang): BoardStrings {
  return lang === 'zh' ? zh : en;
}

export function boardLang(lang: string): BoardLang {
  return lang.toLowerCase().startsWith('zh') ? 'zh' : 'en';
}

/** `{name}` placeholders filled from vars; unknown names stay as written. */
export function fill(template: string, vars: Record<string, string | number>): string {
  return template.replace(/\{(\w+)\}/g, (m, k: string) => (k in vars ? String(vars[k]) : m));
}
