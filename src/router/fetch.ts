/**
 * Requests through the router as a browser would send them, without DNS for `*.localhost`:
 * used by the demo, the deploy's checks in tests, the benchmarks.
 */
import * as http from 'node:http';

/** GET through the router with the environment's Host header (no DNS for *.localhost needed). */
export function fetchFromRouter(port: number, host: string, urlPath = '/'): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: urlPath, headers: { host: `${host}:${port}` } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on('error', reject);
    req.setTimeout(10_000, () => req.destroy(new Error('timed out')));
  });
}

/** The page's <title>, trimmed. */
export const pageTitle = (html: string): string | undefined => /<title>([^<]*)<\/title>/i.exec(html)?.[1]?.trim();
