import { parentPort, workerData } from 'node:worker_threads';
import { Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { BatchWriter, type StorableEvent } from './batch-writer';
import { isConnectionError } from './connection-errors';
import { rawSqlite, SqliteBatchWriter } from './sqlite-batch-writer';
import { buildDataSourceOptions, STORE_ENTITIES } from './store-options';
import {
  decodeBatch,
  storedValuesOf,
  type StoredCallValues,
  type WriteReply,
  type WriteRequest,
  type WriterInit,
} from './store-writer.protocol';

/**
 * The history writer thread: its own connection to the database (the main thread keeps one for reads, migrations
 * and retention), applying the batches it is sent one at a time, so TypeORM and SQLite work never runs on the event
 * loop that serves calls. The database schema is migrated by the main thread before the first batch is sent.
 */
const port = parentPort;
if (port === null) throw new Error('store-writer.worker must run in a worker thread');
const { cfg } = workerData as WriterInit;
const source = new DataSource({ ...buildDataSourceOptions(cfg), entities: STORE_ENTITIES });
const logger = new Logger('StoreWriter');
const writer = new BatchWriter(logger);
/** SQLite: statements prepared once on the writer's connection (PostgreSQL goes through TypeORM). */
let sqlite: SqliteBatchWriter | undefined;
let queue: Promise<void> = Promise.resolve();

async function apply(calls: StoredCallValues[], events: StorableEvent[]): Promise<void> {
  if (!source.isInitialized) {
    await source.initialize();
    const db = rawSqlite(source);
    sqlite = db === undefined ? undefined : new SqliteBatchWriter(db, source, logger);
  }
  if (sqlite !== undefined) sqlite.apply(events, calls);
  else await source.transaction((em) => writer.apply(em, events, calls));
}

/** Writes one batch; never rejects (the outcome is the reply). */
async function write(request: WriteRequest): Promise<WriteReply> {
  const id = request.id;
  try {
    await apply(request.calls.map(storedValuesOf), decodeBatch(request));
    return { id, ok: true };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return {
      id,
      ok: false,
      message,
      unavailable: isConnectionError(error) || !source.isInitialized,
    };
  }
}

port.on('message', (request: WriteRequest) => {
  queue = queue.then(async () => port.postMessage(await write(request)));
});
