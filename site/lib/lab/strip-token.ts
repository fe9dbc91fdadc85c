// A page opened with ?token= has its cookie from the runner by the time the panel hydrates:
// the token then leaves the address bar and the history, so it is not shared with a link.

export function stripTokenFromUrl(): void {
  const url = new URL(location.href);
  if (!url.searchParams.has('token')) return;
  url.searchParams.delete('token');
  history.replaceState(history.state, '', url);
}
