import { Controller, Get, Logger, Param, Res } from '@nestjs/common';
import { ApiOperation, ApiParam, ApiProduces, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { API_TAGS } from '../openapi/api-docs.decorators';
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
@ApiTags(API_TAGS.ui)
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
  @ApiOperation({
    summary: 'A web UI page',
    description:
      'The same HTML shell for every page; the page is rendered in the browser from the admin API.',
  })
  @ApiProduces('text/html')
  @ApiResponse({
    status: 200,
    description: 'The HTML shell.',
    content: { 'text/html': { schema: { type: 'string' } } },
  })
  @ApiResponse({
    status: 503,
    description: 'The UI files were not found at startup.',
    content: { 'text/plain': { schema: { type: 'string' } } },
  })
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
  @ApiOperation({
    summary: 'A web UI asset',
    description: 'Fingerprinted script, style or image; cached for a year (`immutable`).',
  })
  @ApiParam({ name: 'hash', description: 'Fingerprint of the current asset set.' })
  @ApiParam({ name: 'file', description: 'Asset file name.' })
  @ApiResponse({
    status: 200,
    description: 'The asset.',
    content: { '*/*': { schema: { type: 'string', format: 'binary' } } },
  })
  @ApiResponse({
    status: 404,
    description: 'Unknown hash or file.',
    content: { 'text/plain': { schema: { type: 'string' } } },
  })
  asset(@Param('hash') hash: string, @Param('file') file: string, @Res() res: Response): void {
    const asset = this.ui?.asset(hash, file);
    if (asset === undefined) {
      res.status(404).type('text/plain').set('cache-control', 'no-store').send('Not found');
      return;
    }
    res.status(200).set({ 'content-type': asset.contentType, 'cache-control': IMMUTABLE }).send(asset.body);
  }
}
