import type { Page } from 'playwright-core';

/**
 * distinctColours counts the colours of a PNG screenshot, decoded by the browser of page itself:
 * a drawn chart or timeline has many, a blank one one or two.
 */
export async function distinctColours(page: Page, png: Buffer): Promise<number> {
  // Runs in the page (a string, as the node type check has no DOM library).
  const script = `(async () => {
    const img = new Image();
    img.src = 'data:image/png;base64,${png.toString('base64')}';
    await img.decode();
    const c = document.createElement('canvas');
    c.width = img.width;
    c.height = img.height;
    const ctx = c.getContext('2d');
    ctx.drawImage(img, 0, 0);
    const d = ctx.getImageData(0, 0, c.width, c.height).data;
    const seen = new Set();
    for (let i = 0; i < d.length; i += 4) seen.add((d[i] << 16) | (d[i + 1] << 8) | d[i + 2]);
    return seen.size;
  })()`;
  return (await page.evaluate(script)) as number;
}
