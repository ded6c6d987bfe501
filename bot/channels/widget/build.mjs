// Builds src/ into dist/widget.js: one minified IIFE with the CSS inlined.
//   node bot/channels/widget/build.mjs           build
//   node bot/channels/widget/build.mjs --check   exit 1 when dist/widget.js is out of date
import * as esbuild from 'esbuild';
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const dir = fileURLToPath(new URL('.', import.meta.url));
const out = dir + 'dist/widget.js';

const css = await esbuild.build({
  entryPoints: [dir + 'src/widget.css'],
  bundle: true,
  minify: true,
  write: false,
  target: ['chrome90', 'firefox90', 'safari14'],
  logLevel: 'error',
});
const js = await esbuild.build({
  entryPoints: [dir + 'src/main.js'],
  bundle: true,
  minify: true,
  format: 'iife',
  target: ['es2019'],
  write: false,
  legalComments: 'none',
  charset: 'utf8',
  define: { __CSS__: JSON.stringify(css.outputFiles[0].text.trim()) },
  banner: { js: '/* Vrijwilligerskracht chat widget. Source: bot/channels/widget/src. Licence: EUPL-1.2 */' },
  logLevel: 'error',
});
const code = js.outputFiles[0].text;

if (process.argv.includes('--check')) {
  const current = await readFile(out, 'utf8').catch(() => '');
  if (current !== code) {
    console.error('dist/widget.js is out of date: run `npm run build`');
    process.exit(1);
  }
  console.log('dist/widget.js is up to date');
} else {
  await writeFile(out, code);
  const gz = gzipSync(Buffer.from(code), { level: 9 }).length;
  console.log(`dist/widget.js: ${code.length} bytes, ${gz} bytes gzipped`);
}
