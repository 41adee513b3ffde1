import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, extname, join } from 'node:path';

/** Where the UI's static files live, relative to the repository root. */
export const UI_DIR = join('apps', 'gateway', 'ui');
/** URL prefix of the UI. */
export const UI_BASE = '/ui';
/** Placeholder in index.html replaced by the fingerprinted assets URL (`/ui/assets/<hash>`). */
export const ASSETS_PLACEHOLDER = '%ASSETS%';

/** Content types of the asset files served (anything else in the folder is ignored). */
const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};
const HASH_LENGTH = 16;

/** One static file held in memory. */
export interface UiAsset {
  body: Buffer;
  contentType: string;
}

/**
 * The UI loaded at startup: the HTML shell and the assets (flat `assets/` folder), all in memory, fingerprinted
 * by one hash of every asset's name and content. Assets are served under `/ui/assets/<hash>/<file>`, so the
 * modules' relative imports stay within one version and a new build never mixes with a cached old one.
 */
export class UiAssets {
  private constructor(
    readonly hash: string,
    readonly html: Buffer,
    private readonly files: ReadonlyMap<string, UiAsset>,
  ) {}

  /** Reads the UI from `dir` (the folder holding index.html and assets/). */
  static load(dir: string): UiAssets {
    const files = new Map<string, UiAsset>();
    const hasher = createHash('sha256');
    const assetsDir = join(dir, 'assets');
    for (const name of readdirSync(assetsDir).sort()) {
      const contentType = CONTENT_TYPES[extname(name)];
      if (contentType === undefined) continue;
      const body = readFileSync(join(assetsDir, name));
      hasher.update(name).update('\0').update(body).update('\0');
      files.set(name, { body, contentType });
    }
    const hash = hasher.digest('hex').slice(0, HASH_LENGTH);
    const template = readFileSync(join(dir, 'index.html'), 'utf8');
    const html = Buffer.from(template.split(ASSETS_PLACEHOLDER).join(`${UI_BASE}/assets/${hash}`));
    return new UiAssets(hash, html, files);
  }

  /** The asset `name` of version `hash`; undefined for any other version or name. */
  asset(hash: string, name: string): UiAsset | undefined {
    return hash === this.hash ? this.files.get(name) : undefined;
  }

  /** Names of the assets, for tests and logs. */
  names(): string[] {
    return [...this.files.keys()];
  }
}

/**
 * The UI folder, found by walking up from `start` (this file's folder) to the directory that holds
 * `apps/gateway/ui`: the same from sources (tests) and from `dist/` (npm start), whatever the working directory.
 */
export function locateUiDir(start: string): string | undefined {
  let dir = start;
  for (;;) {
    const candidate = join(dir, UI_DIR);
    if (existsSync(join(candidate, 'index.html'))) return candidate;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}
