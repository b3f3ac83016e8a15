import type { Request, Response } from 'express';

/**
 * notFound answers as Go's http.NotFound does (`404 page not found`, plain text), as Prometheus and
 * Thanos answer unknown paths, never Express's HTML "Cannot GET" page. Usable as the last handler
 * of an app or router.
 */
export function notFound(_req: Request, res: Response): void {
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.status(404).type('text/plain; charset=utf-8').send('404 page not found\n');
}
