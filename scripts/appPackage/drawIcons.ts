import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { PNG } from 'pngjs';

/**
 * Draws the Teams app's two icons into appPackage/: color.png (192×192, a
 * white bell on the accent color) and outline.png (32×32, the white bell on
 * transparent, as Teams requires). Replace both with your own artwork when
 * you like; `npm run package` takes whatever PNGs are there.
 *
 * Usage: node dist/scripts/appPackage/drawIcons.js
 */

/** The manifest's accentColor, #2F5DA8. */
const accent = { r: 0x2f, g: 0x5d, b: 0xa8 };
const samplesPerAxis = 4;

/** Whether a point of the unit square (y down) lies on the bell. */
function onBell(x: number, y: number): boolean {
  const dx = x - 0.5;
  const dome = dx * dx + ((y - 0.42) / 1.05) ** 2 <= 0.22 ** 2 && y <= 0.42;
  // The body widens from the dome's width to the rim.
  const bodyHalfWidth = 0.22 + ((y - 0.42) / 0.26) * 0.08;
  const body = y >= 0.42 && y <= 0.68 && Math.abs(dx) <= bodyHalfWidth;
  const rim = y >= 0.66 && y <= 0.72 && Math.abs(dx) <= 0.34;
  const clapper = dx * dx + (y - 0.78) ** 2 <= 0.07 ** 2;
  const knob = dx * dx + (y - 0.19) ** 2 <= 0.045 ** 2;
  return dome || body || rim || clapper || knob;
}

/** The share of a pixel the bell covers, supersampled for smooth edges. */
function coverage(px: number, py: number, size: number, inset: number): number {
  let inside = 0;
  for (let sy = 0; sy < samplesPerAxis; sy += 1) {
    for (let sx = 0; sx < samplesPerAxis; sx += 1) {
      const x = (px + (sx + 0.5) / samplesPerAxis) / size;
      const y = (py + (sy + 0.5) / samplesPerAxis) / size;
      // Shrink the glyph towards the centre by `inset` on each side.
      if (onBell((x - inset) / (1 - 2 * inset), (y - inset) / (1 - 2 * inset))) inside += 1;
    }
  }
  return inside / samplesPerAxis ** 2;
}

function draw(size: number, background: typeof accent | undefined, inset: number): Buffer {
  const png = new PNG({ width: size, height: size });
  for (let y = 0; y < size; y += 1) {
    for (let x = 0; x < size; x += 1) {
      const share = coverage(x, y, size, inset);
      const at = (y * size + x) * 4;
      if (background === undefined) {
        png.data.set([255, 255, 255, Math.round(share * 255)], at);
      } else {
        const mix = (channel: number): number => Math.round(channel + (255 - channel) * share);
        png.data.set([mix(background.r), mix(background.g), mix(background.b), 255], at);
      }
    }
  }
  return PNG.sync.write(png);
}

const appPackageDir = path.resolve(__dirname, '..', '..', '..', 'appPackage');
writeFileSync(path.join(appPackageDir, 'color.png'), draw(192, accent, 0.12));
writeFileSync(path.join(appPackageDir, 'outline.png'), draw(32, undefined, 0));
console.log(`wrote color.png and outline.png in ${appPackageDir}`);
