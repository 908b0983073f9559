// Where the page connects: the WebSocket of the page's own server, at the page's directory. A page at
// "/" opens ws://HOST:PORT/, a page at "/vms/NAME/" opens ws://HOST:PORT/vms/NAME (one VM of a host).

/** The WebSocket URL for a page at {@code location} (anything with protocol, host and pathname). */
export function webSocketUrl(location) {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  let path = location.pathname.replace(/[^/]*$/, ''); // the page's directory: drop "index.html"
  if (path.length > 1) {
    path = path.slice(0, -1);
  }
  return `${scheme}//${location.host}${path || '/'}`;
}

/** Query parameters the page understands; the password is taken out of the address bar once read. */
export function readParameters(search) {
  const p = new URLSearchParams(search);
  return {
    password: p.get('password'),
    overlay: p.get('overlay') === '1' || p.get('stats') === '1',
    jpegDecoder: p.get('jpeg') || null,
  };
}

/** {@code search} without the password parameter (what the address bar keeps). */
export function withoutPassword(search) {
  const p = new URLSearchParams(search);
  p.delete('password');
  const s = p.toString();
  return s ? `?${s}` : '';
}
