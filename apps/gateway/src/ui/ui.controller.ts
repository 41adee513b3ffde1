import { Controller, Get, Logger, Param, Res } from '@nestjs/common';
import type { Response } from 'express';
import { locateUiDir, UiAssets } from './ui-assets';

/** Cache policy of fingerprinted assets: their URL changes with their content. */
const IMMUTABLE = 'public, max-age=31536000, immutable';
/** The HTML shell names the current assets: always revalidated. */
const REVALIDATE = 'no-cache';

/**
 * Serves the web UI: one HTML shell for every page (the modules route on the path) and the fingerprinted assets.
 * The shell and assets hold no data: every datum comes from the admin API, which checks access. Security headers
 * (CSP and others) come from {@link SecurityHeaders}.
 */
@Controller('ui')
export class UiController {
  private readonly logger = new Logger('UI');
  private readonly ui: UiAssets | undefined;

  constructor() {
    const dir = locateUiDir(__dirname);
    if (dir === undefined) {
      this.logger.error('UI files not found (apps/gateway/ui): /ui is unavailable');
      return;
    }
    this.ui = UiAssets.load(dir);
  }

  @Get(['', 'live', 'history', 'policy', 'sessions/:id', 'calls/:id'])
  page(@Res() res: Response): void {
    if (this.ui === undefined) {
      res.status(503).type('text/plain').set('cache-control', 'no-store').send('UI files not found');
      return;
    }
    res
      .status(200)
      .set({ 'content-type': 'text/html; charset=utf-8', 'cache-control': REVALIDATE })
      .send(this.ui.html);
  }

  @Get('assets/:hash/:file')
  asset(@Param('hash') hash: string, @Param('file') file: string, @Res() res: Response): void {
    const asset = this.ui?.asset(hash, file);
    if (asset === undefined) {
      res.status(404).type('text/plain').set('cache-control', 'no-store').send('Not found');
      return;
    }
    res.status(200).set({ 'content-type': asset.contentType, 'cache-control': IMMUTABLE }).send(asset.body);
  }
}
