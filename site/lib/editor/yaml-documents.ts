// The learner's side of the live diff: the one YAML document (between `---` lines) that a
// runner-reported object came from, without its comment lines (the cluster keeps no
// comments, so they would only add noise to the diff).

/** The document holding 1-based `line`, comment-only lines dropped, ending in one newline. */
export function documentAt(text: string, line: number): string {
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  let start = 0;
  let end = lines.length;
  for (let i = 0; i < lines.length; i++) {
    if (!/^---(\s|$)/.test(lines[i]!)) continue;
    if (line - 1 < i) {
      end = i;
      break;
    }
    start = i + 1;
  }
  const body = lines.slice(start, end).filter((l) => !/^\s*#/.test(l) && !/^\.\.\.\s*$/.test(l));
  while (body.length && !body[0]!.trim()) body.shift();
  while (body.length && !body.at(-1)!.trim()) body.pop();
  return body.length ? `${body.join('\n')}\n` : '';
}
