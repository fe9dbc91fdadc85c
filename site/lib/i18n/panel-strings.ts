// Every string the lab panel shows, per page language. The panel's markup is rendered at
// build time with these; the client code receives the same object as JSON.

export type PanelStrings = {
  panelLabel: string;
  heading: string;
  start: string;
  startAgain: string;
  stop: string;
  statusIdle: string;
  statusStarting: string;
  statusReady: string;
  statusStale: string;
  statusUnreachable: string;
  terminalHeading: string;
  terminalLabel: string;
  terminalPlaceholder: string;
  terminalLoading: string;
  terminalConnecting: string;
  terminalReconnecting: string;
  terminalConnected: string;
  terminalExited: string;
  terminalMissed: string;
  terminalKeyHint: string;
  editorHeading: string;
  editorStep: string;
  editorLoading: string;
  editorLabel: string;
  editorKeyHint: string;
  apply: string;
  applying: string;
  applied: string;
  reset: string;
  resetDone: string;
  needSession: string;
  checksHeading: string;
  check: string;
  checking: string;
  passed: string;
  notYet: string;
  couldNotRun: string;
  statusPass: string;
  statusFail: string;
  statusError: string;
  expected: string;
  observed: string;
  hint: string;
  labLoading: string;
  labUnavailable: string;
  showHint: string;
  hintsDone: string;
  scratch: string;
  runInTerminal: string;
  jumpToLab: string;
  reconnectNow: string;
  elapsed: string;
  resetLab: string;
  resetLabConfirm: string;
  resetLabBusy: string;
  resetLabDone: string;
  solve: string;
  solveConfirm: string;
  solving: string;
  solvedWithHelp: string;
  solvedBadge: string;
  unlock: string;
  locked: string;
  autoCheck: string;
  progress: string;
  terminalTabs: string;
  nodeShellNote: string;
  enlargeDiagram: string;
  closeDialog: string;
  cancelStart: string;
  phasesLabel: string;
  phaseWaiting: string;
  phaseClaiming: string;
  phaseStarting: string;
  phaseApplying: string;
  phaseDone: string;
  phaseRunning: string;
  phasePending: string;
  startPhase: string;
  startElapsed: string;
  waitingInLine: string;
  waitingNoLine: string;
  waitEta: string;
  waitEtaOver: string;
  waitNoEta: string;
  startFailed: string;
  startFailedHint: string;
  startSlow: string;
  startSlowHint: string;
  lostContact: string;
  /** Start errors in this language, by runner error code (else the runner's own text). */
  startErrors: Record<string, { message: string; hint: string }>;
  diff: string;
  diffLabel: string;
  diffLoading: string;
  diffHeading: string;
  diffObject: string;
  diffLive: string;
  diffMine: string;
  diffLegend: string;
  diffNotCreated: string;
  diffEmpty: string;
  diffClose: string;
};

export const panelStrings: Record<'en' | 'zh-CN', PanelStrings> = {
  en: {
    panelLabel: 'Lab panel',
    heading: 'Lab',
    start: 'Start lab',
    startAgain: 'Start lab again',
    stop: 'End lab',
    statusIdle: 'Not started. Start the lab to get a shell on your own workstation container.',
    statusStarting: 'Starting your workstation…',
    statusReady: 'Lab running.',
    statusStale: 'Your previous lab session has ended (the runner was restarted or the session was removed).',
    statusUnreachable: 'Cannot reach the svclab runner.',
    terminalHeading: 'Terminal',
    terminalLabel: 'Workstation terminal',
    terminalPlaceholder: 'The terminal opens here once the lab is running.',
    terminalLoading: 'Loading terminal…',
    terminalConnecting: 'Connecting…',
    terminalReconnecting: 'Connection lost, reconnecting…',
    terminalConnected: 'Connected',
    terminalExited: 'The shell exited with code {code}. Reload the page to open a new one.',
    terminalMissed: 'Some earlier output was dropped from the runner’s buffer.',
    terminalKeyHint: 'Press F6 to move focus out of the terminal.',
    editorHeading: 'YAML editor',
    editorStep: 'Step',
    editorLoading: 'Loading editor…',
    editorLabel: 'YAML for the selected step',
    editorKeyHint: 'Press Ctrl+M to make Tab move focus instead of inserting spaces.',
    apply: 'Apply',
    applying: 'Applying…',
    applied: 'Applied.',
    reset: 'Reset to step text',
    resetDone: 'Text reset to the step’s starting YAML (Ctrl+Z brings yours back).',
    needSession: 'Start the lab first.',
    checksHeading: 'Checks',
    check: 'Check',
    checking: 'Checking…',
    passed: 'Step passed.',
    notYet: 'Not there yet.',
    couldNotRun: 'The check could not look at your cluster this time.',
    statusPass: 'pass',
    statusFail: 'fail',
    statusError: 'error',
    expected: 'Expected',
    observed: 'Observed',
    hint: 'Hint',
    labLoading: 'Loading the lab…',
    labUnavailable: 'Could not load this lab from the runner.',
    showHint: 'Show hint {n} of {total}',
    hintsDone: 'No more hints for this step.',
    scratch: 'Scratch YAML',
    runInTerminal: 'Run in terminal',
    jumpToLab: 'Lab panel',
    reconnectNow: 'Reconnect now',
    elapsed: '{s} s',
    resetLab: 'Reset lab',
    resetLabConfirm: 'Put this lab back to its starting state? Your objects in the cluster and the files in ~/answers are removed, and the step ticks are cleared.',
    resetLabBusy: 'Resetting the lab…',
    resetLabDone: 'The lab is back at its starting state.',
    solve: 'Solve',
    solveConfirm: 'Apply this step’s solution for you? The step will count as solved with help.',
    solving: 'Applying the solution…',
    solvedWithHelp: 'Solved with help.',
    solvedBadge: 'solved with help',
    unlock: 'Unlock anyway',
    locked: 'Unlocks when the step before passes.',
    autoCheck: 'Re-checking automatically while this page is open (next in {s} s).',
    progress: '{done} of {total} steps done',
    terminalTabs: 'Terminals',
    enlargeDiagram: 'Enlarge diagram',
    closeDialog: 'Close',
    cancelStart: 'Cancel',
    phasesLabel: 'Starting the lab',
    phaseWaiting: 'Wait for a free cluster',
    phaseClaiming: 'Claim a cluster',
    phaseStarting: 'Start your workstation',
    phaseApplying: 'Set up the lab’s objects',
    phaseDone: 'done',
    phaseRunning: 'in progress',
    phasePending: 'to do',
    startPhase: 'Starting the lab: {phase} (step {n} of {total})…',
    startElapsed: 'Time so far:',
    waitingInLine: 'Every cluster is in use: you are number {position} in line.',
    waitingNoLine: 'Preparing a cluster for you…',
    waitEta: 'Preparing — ready in about {s} s.',
    waitEtaOver: 'Preparing — taking a little longer than estimated…',
    waitNoEta: 'Preparing — {s} s so far.',
    startFailed: 'The lab could not start.',
    startFailedHint: 'Press Start lab to try again. If it fails again, the runner’s log (in the terminal where you ran `npm start`) says why.',
    startSlow: 'Starting is taking much longer than expected.',
    startSlowHint: 'Reload the page to look again, or press Cancel and then Start lab.',
    lostContact: 'Lost contact with the runner; trying again…',
    startErrors: {},
    diff: 'Diff',
    diffLabel: 'Diff: compare your YAML with the live objects in the cluster',
    diffLoading: 'Reading the live objects from the cluster…',
    diffHeading: 'Your YAML against the cluster',
    diffObject: 'Object',
    diffLive: 'Live in the cluster (read-only)',
    diffMine: 'Your YAML (read-only here; edit it above)',
    diffLegend: 'Lines marked − are only in the cluster (often defaults the server filled in), lines marked + only in your YAML. Comments are left out. F7 steps through the changes; Escape closes.',
    diffNotCreated: '{object} is not created yet: Apply creates it.',
    diffEmpty: 'The editor holds no object to compare.',
    diffClose: 'Close diff',
    nodeShellNote: 'Node tabs are root shells in the node’s privileged container: a mistake there can break the cluster. They are offered only because the runner listens on loopback.',
  },
  'zh-CN': {
    panelLabel: '实验面板',
    heading: '实验',
    start: '开始实验',
    startAgain: '重新开始实验',
    stop: '结束实验',
    statusIdle: '尚未开始。点击“开始实验”，会为你启动一个独立的工作站容器并打开 shell。',
    statusStarting: '正在启动工作站……',
    statusReady: '实验进行中。',
    statusStale: '之前的实验会话已失效（runner 重启过，或会话已被删除）。',
    statusUnreachable: '连不上 svclab runner。',
    terminalHeading: '终端',
    terminalLabel: '工作站终端',
    terminalPlaceholder: '实验启动后，终端会显示在这里。',
    terminalLoading: '正在加载终端……',
    terminalConnecting: '正在连接……',
    terminalReconnecting: '连接已断开，正在重连……',
    terminalConnected: '已连接',
    terminalExited: 'shell 已退出，退出码 {code}。刷新页面即可重新打开。',
    terminalMissed: 'runner 缓冲区已丢弃部分较早的输出。',
    terminalKeyHint: '按 F6 可将焦点移出终端。',
    editorHeading: 'YAML 编辑器',
    editorStep: '步骤',
    editorLoading: '正在加载编辑器……',
    editorLabel: '当前步骤的 YAML',
    editorKeyHint: '按 Ctrl+M 切换：Tab 键用于移动焦点，而不是插入空格。',
    apply: '应用',
    applying: '正在应用……',
    applied: '已应用。',
    reset: '恢复为步骤初始内容',
    resetDone: '已恢复为该步骤的初始 YAML（按 Ctrl+Z 可找回你的修改）。',
    needSession: '请先开始实验。',
    checksHeading: '检查',
    check: '检查',
    checking: '正在检查……',
    passed: '本步骤已通过。',
    notYet: '还没完成。',
    couldNotRun: '这次检查没能查看你的集群。',
    statusPass: '通过',
    statusFail: '未通过',
    statusError: '出错',
    expected: '期望',
    observed: '实际',
    hint: '提示',
    labLoading: '正在加载实验……',
    labUnavailable: '无法从 runner 加载该实验。',
    showHint: '查看提示（{n}/{total}）',
    hintsDone: '这一步没有更多提示了。',
    scratch: '草稿 YAML',
    runInTerminal: '在终端中运行',
    jumpToLab: '实验面板',
    reconnectNow: '立即重连',
    elapsed: '{s} 秒',
    resetLab: '重置实验',
    resetLabConfirm: '把这个实验恢复到初始状态吗？你在集群里创建的对象和 ~/answers 里的文件都会被删除，步骤进度也会清空。',
    resetLabBusy: '正在重置实验……',
    resetLabDone: '实验已恢复到初始状态。',
    solve: '直接解决',
    solveConfirm: '要替你应用这一步的参考答案吗？这一步会记为“借助答案完成”。',
    solving: '正在应用参考答案……',
    solvedWithHelp: '已借助答案完成。',
    solvedBadge: '借助答案完成',
    unlock: '仍然解锁',
    locked: '上一步通过后解锁。',
    autoCheck: '页面打开期间会自动重新检查（{s} 秒后）。',
    progress: '已完成 {done}/{total} 步',
    terminalTabs: '终端',
    enlargeDiagram: '放大示意图',
    closeDialog: '关闭',
    cancelStart: '取消',
    phasesLabel: '实验启动进度',
    phaseWaiting: '等待空闲集群',
    phaseClaiming: '分配集群',
    phaseStarting: '启动你的工作站',
    phaseApplying: '创建实验所需的对象',
    phaseDone: '已完成',
    phaseRunning: '进行中',
    phasePending: '待进行',
    startPhase: '正在启动实验：{phase}（第 {n}/{total} 步）……',
    startElapsed: '已用时间：',
    waitingInLine: '集群都在使用中：你排在第 {position} 位。',
    waitingNoLine: '正在为你准备集群……',
    waitEta: '正在准备，大约 {s} 秒后就绪。',
    waitEtaOver: '正在准备，比预计的稍慢一些……',
    waitNoEta: '正在准备，已等待 {s} 秒。',
    startFailed: '实验没能启动。',
    startFailedHint: '点击“开始实验”再试一次。如果仍然失败，可以在运行 `npm start` 的终端里查看 runner 日志，找出原因。',
    startSlow: '启动花的时间比预期长得多。',
    startSlowHint: '刷新页面重新查看，或者点击“取消”后再点“开始实验”。',
    lostContact: '与 runner 的连接中断，正在重试……',
    startErrors: {
      POOL_TIMEOUT: { message: '等了很久也没有集群空出来。', hint: '所有集群都在使用中。过几分钟再点“开始实验”，或者请讲师扩大集群池。' },
      POOL_CLOSED: { message: 'runner 正在停止，无法分配集群。', hint: '重新启动 runner（npm start），再点“开始实验”。' },
      SESSION_LIMIT: { message: 'runner 上的实验会话数已达上限。', hint: '结束不再使用的会话，或者调高 --max-sessions。' },
      IMAGE_MISSING: { message: 'svclab 需要的容器镜像还没有构建。', hint: '执行 `svclab images build`。' },
      IMAGE_STALE: { message: '有容器镜像比它的构建配方旧。', hint: '执行 `svclab images build`，重新构建有变化的镜像。' },
      DOCKER_MISSING: { message: '没有安装 Docker。', hint: '以 root 身份执行 apt-get install -y docker.io，然后运行 `svclab doctor`。' },
      DOCKER_DOWN: { message: 'Docker 守护进程没有运行。', hint: '以 root 身份执行 `svclab doctor --fix`，或者自己启动 dockerd（dockerd &）。' },
      WORKSTATION_FAILED: { message: '工作站容器没能启动。', hint: '运行 `svclab doctor` 检查；runner 日志里有 docker 给出的具体信息。' },
      CLUSTER_FAILED: { message: '集群没能创建出来。', hint: 'runner 日志里有失败的步骤和输出；可以执行 `svclab down --all` 清理后重试。' },
    },
    diff: '对比',
    diffLabel: '对比：把你的 YAML 与集群中的实际对象对比',
    diffLoading: '正在从集群读取实际对象……',
    diffHeading: '你的 YAML 与集群中的对象',
    diffObject: '对象',
    diffLive: '集群中的实际对象（只读）',
    diffMine: '你的 YAML（这里只读，请在上方编辑）',
    diffLegend: '标 − 的行只在集群里有（多半是服务器补上的默认值），标 + 的行只在你的 YAML 里有。注释不参与对比。按 F7 逐个查看改动，按 Escape 关闭。',
    diffNotCreated: '{object} 还没有创建，点“应用”就会创建它。',
    diffEmpty: '编辑器里没有可以对比的对象。',
    diffClose: '关闭对比',
    nodeShellNote: '节点标签页是节点特权容器里的 root shell，误操作可能弄坏集群。只有 runner 监听在本机回环地址时才会提供。',
  },
};

export function stringsFor(lang: string): PanelStrings {
  return lang.toLowerCase().startsWith('zh') ? panelStrings['zh-CN'] : panelStrings.en;
}

/** The language key lab.yaml uses for this page language. */
export function labLang(lang: string): 'en' | 'zh' {
  return lang.toLowerCase().startsWith('zh') ? 'zh' : 'en';
}
