// Accent colours that keep WCAG AA contrast whatever colour an organisation picks.

export const DEFAULT_ACCENT = '#c2410c';
const SURFACE = [243, 244, 246]; // the darkest background accent-coloured text sits on

function rgb(hex) {
  let x = hex.slice(1);
  if (x.length === 3) x = x.replace(/./g, '$&$&');
  const n = parseInt(x, 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

function lum(c) {
  const [r, g, b] = c.map((v) => {
    v /= 255;
    return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

export function contrast(a, b) {
  const x = lum(a);
  const y = lum(b);
  return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05);
}

const hex = (c) => '#' + c.map((v) => v.toString(16).padStart(2, '0')).join('');

// accent: fills (header, launcher, your messages); on: text on the accent;
// ink: the accent darkened until it reads as text on light backgrounds.
export function palette(value) {
  const c = rgb(/^#([0-9a-f]{3}){1,2}$/i.test(value || '') ? value : DEFAULT_ACCENT);
  const on = contrast(c, [255, 255, 255]) >= contrast(c, [17, 17, 17]) ? '#fff' : '#111';
  let ink = c;
  while (contrast(ink, SURFACE) < 4.8) ink = ink.map((v) => Math.floor(v * 0.92));
  return { accent: hex(c), on, ink: hex(ink) };
}
