// The live room's strings (grid, failing checks, controls, connection), en and zh-CN. The pool's
// strings and the duration formats stay in instructor-strings.ts.

export type RoomStrings = {
  intro: string;
  live: string;
  connecting: string;
  reconnectIn: string;
  retryNow: string;
  errors: Record<'unreachable' | 'not-runner' | 'token' | 'forbidden' | 'failed', { message: string; hint: string }>;
  roomHeading: string;
  broadcastLabel: string;
  broadcastHelp: string;
  broadcastSend: string;
  broadcastClear: string;
  broadcastNow: string;
  broadcastNone: string;
  extendAll: string;
  extendOne: string;
  extendOneLabel: string;
  endAll: string;
  confirmEndAll: string;
  exportCsv: string;
  exportJson: string;
  noLabs: string;
  gridCaption: string;
  colLearner: string;
  colActivity: string;
  colActions: string;
  stepHeader: string;
  gridStates: Record<'not-started' | 'working' | 'passed' | 'solved-with-help', string>;
  attempts: string;
  failingNow: string;
  idleFor: string;
  expires: string;
  noLearners: string;
  gateAll: string;
  gateSome: string;
  gateOne: string;
  gateStart: string;
  unlockNext: string;
  openAll: string;
  reset: string;
  end: string;
  confirmReset: string;
  confirmEnd: string;
  sessionStates: Record<string, string>;
  failingHeading: string;
  failingNone: string;
  failingItem: string;
  failingMessage: string;
  done: string;
  controlFailed: string;
  announce: string;
};

const en: RoomStrings = {
  intro: 'Live: this page updates as learners work (no refresh needed).',
  live: 'Live, updated {time}.',
  connecting: 'Connecting to the runner…',
  reconnectIn: 'Connection lost; reconnecting in {t}.',
  retryNow: 'Reconnect now',
  errors: {
    unreachable: { message: 'Cannot reach the svclab runner.', hint: 'Start the runner with npm start, svclab start --pool auto or svclab workshop start, then open the instructor URL it prints.' },
    'not-runner': { message: 'This page is not served by the svclab runner, so there is no room to show.', hint: 'Open /instructor/ on the address the runner prints.' },
    token: { message: 'The runner did not accept this page’s credential.', hint: 'Open the instructor URL the runner printed last (it carries the secret); it changes each time the runner starts.' },
    forbidden: { message: 'This browser holds a learner’s pass, not the instructor’s.', hint: 'Open the instructor URL (not the learner URL) that svclab workshop start printed, in another browser profile if you also joined as a learner.' },
    failed: { message: 'The runner could not send the room.', hint: 'The runner’s log says why; this page keeps trying.' },
  },
  roomHeading: 'Room',
  broadcastLabel: 'Message to every learner',
  broadcastHelp: 'Shown at the top of each learner’s lab panel until you clear it (280 characters at most).',
  broadcastSend: 'Send message',
  broadcastClear: 'Clear message',
  broadcastNow: 'Learners see: “{message}”',
  broadcastNone: 'No message is shown to learners.',
  extendAll: 'Extend everyone by 15 min',
  extendOne: '+15 min',
  extendOneLabel: 'Give {name} 15 more minutes',
  endAll: 'End every learner’s lab',
  confirmEndAll: 'End every learner’s lab now? Their sessions end and their clusters go back to the pool; the workshop goes on (svclab workshop end ends it).',
  exportCsv: 'Export results (CSV)',
  exportJson: 'Export results (JSON)',
  noLabs: 'No learner has started a lab yet. Learners appear here when they press Start lab.',
  gridCaption: '{lab}: learners and their steps',
  colLearner: 'Learner',
  colActivity: 'Last activity',
  colActions: 'Actions',
  stepHeader: '{n}. {title}',
  gridStates: { 'not-started': 'not started', working: 'working', passed: 'passed', 'solved-with-help': 'solved with help' },
  attempts: '{n} checks',
  failingNow: '{n} failing',
  idleFor: '{t} ago',
  expires: 'place ends {time}',
  noLearners: 'No learner is on this lab right now.',
  gateAll: 'Every step is open.',
  gateSome: 'Steps 1–{open} of {total} are open; learners cannot check later steps yet.',
  gateOne: 'Only step 1 of {total} is open; learners cannot check later steps yet.',
  gateStart: 'Gate: open step 1 only',
  unlockNext: 'Unlock step {n} for everyone',
  openAll: 'Open every step',
  reset: 'Reset lab',
  end: 'End',
  confirmReset: 'Reset {name}’s lab? Their cluster goes back to the lab’s start and their progress starts over.',
  confirmEnd: 'End {name}’s lab now? Their session ends and their cluster goes back to the pool.',
  sessionStates: { waiting: 'waiting for a cluster', claiming: 'claiming a cluster', starting: 'starting', applying: 'setting up the lab', ready: 'ready', failed: 'failed' },
  failingHeading: 'Checks learners are stuck on',
  failingNone: 'No learner’s latest Check is failing.',
  failingItem: '{learners} of {of} learners: {lab}, step {step} “{title}”, check {check}',
  failingMessage: '{learners}× “{message}”',
  done: 'Done ({n} affected).',
  controlFailed: '{message} {hint}',
  announce: '{learners} learners; {passed} steps passed, {failing} checks failing.',
};

const zh: RoomStrings = {
  intro: '实时：学员操作时本页会自动更新（无需刷新）。',
  live: '实时，更新于 {time}。',
  connecting: '正在连接运行器…',
  reconnectIn: '连接已断开；{t}后重新连接。',
  retryNow: '立即重新连接',
  errors: {
    unreachable: { message: '无法连接 svclab 运行器。', hint: '用 npm start、svclab start --pool auto 或 svclab workshop start 启动运行器，然后打开它打印的讲师网址。' },
    'not-runner': { message: '本页不是由 svclab 运行器提供的，因此没有课堂可显示。', hint: '在运行器打印的地址上打开 /zh-cn/instructor/。' },
    token: { message: '运行器不接受本页的凭据。', hint: '打开运行器最近打印的讲师网址（其中带有密钥）；运行器每次启动都会更换。' },
    forbidden: { message: '此浏览器持有的是学员通行证，而不是讲师的。', hint: '打开 svclab workshop start 打印的讲师网址（不是学员网址）；如果你也以学员身份加入过，请换一个浏览器配置文件。' },
    failed: { message: '运行器无法发送课堂状态。', hint: '运行器的日志会说明原因；本页会继续重试。' },
  },
  roomHeading: '课堂',
  broadcastLabel: '发给所有学员的消息',
  broadcastHelp: '显示在每位学员实验面板的顶部，直到你清除它（最多 280 个字符）。',
  broadcastSend: '发送消息',
  broadcastClear: '清除消息',
  broadcastNow: '学员看到：“{message}”',
  broadcastNone: '当前没有向学员显示消息。',
  extendAll: '为所有人延长 15 分钟',
  extendOne: '+15 分钟',
  extendOneLabel: '为 {name} 延长 15 分钟',
  endAll: '结束所有学员的实验',
  confirmEndAll: '现在结束所有学员的实验吗？他们的会话会结束，集群会回到池中；工作坊仍会继续（用 svclab workshop end 结束工作坊）。',
  exportCsv: '导出结果（CSV）',
  exportJson: '导出结果（JSON）',
  noLabs: '还没有学员开始实验。学员点击“开始实验”后会出现在这里。',
  gridCaption: '{lab}：学员及其步骤',
  colLearner: '学员',
  colActivity: '最近活动',
  colActions: '操作',
  stepHeader: '{n}. {title}',
  gridStates: { 'not-started': '未开始', working: '进行中', passed: '已通过', 'solved-with-help': '借助帮助完成' },
  attempts: '检查 {n} 次',
  failingNow: '{n} 项未通过',
  idleFor: '{t}前',
  expires: '名额于 {time} 结束',
  noLearners: '目前没有学员在做这个实验。',
  gateAll: '所有步骤均已开放。',
  gateSome: '已开放第 1–{open} 步（共 {total} 步）；学员暂时不能检查后面的步骤。',
  gateOne: '只开放了第 1 步（共 {total} 步）；学员暂时不能检查后面的步骤。',
  gateStart: '逐步开放：只开放第 1 步',
  unlockNext: '为所有人开放第 {n} 步',
  openAll: '开放所有步骤',
  reset: '重置实验',
  end: '结束',
  confirmReset: '重置 {name} 的实验吗？其集群会回到实验起点，进度从头开始。',
  confirmEnd: '现在结束 {name} 的实验吗？其会话会结束，集群会回到池中。',
  sessionStates: { waiting: '等待集群', claiming: '正在分配集群', starting: '正在启动', applying: '正在准备实验', ready: '就绪', failed: '失败' },
  failingHeading: '学员卡住的检查',
  failingNone: '没有学员最近一次检查未通过。',
  failingItem: '{of} 位学员中有 {learners} 位：{lab}，第 {step} 步“{title}”，检查 {check}',
  failingMessage: '{learners}×“{message}”',
  done: '完成（影响 {n} 项）。',
  controlFailed: '{message} {hint}',
  announce: '{learners} 位学员；已通过 {passed} 个步骤，{failing} 项检查未通过。',
};

export function roomStrings(lang: 'en' | 'zh'): RoomStrings {
  return lang === 'zh' ? zh : en;
}
