import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { EventsConfig } from '../events.config';
import {
  batchOf,
  type WriteMessage,
  type WriteReply,
  type WriteRequest,
  type WriterInit,
} from './store-writer.protocol';
import { StoreUnavailableError } from './store-unavailable.error';

const WORKER_FILE = join(__dirname, 'store-writer.worker.js');

/**
 * The main thread's handle on the history writer thread (store-writer.worker): batches are posted to it and their
 * outcome awaited. A crashed thread fails the batches in flight (the publisher retries them) and is started again
 * on the next batch. Only for databases a second connection can share (a SQLite file, PostgreSQL); only where the
 * compiled worker exists (the built app, not the TypeScript sources the unit tests run on).
 */
export class StoreWriterThread {
  private worker: Worker | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: () => void; reject: (error: Error) => void }>();

  private constructor(private readonly cfg: EventsConfig) {}

  /** A writer thread for `cfg`, or undefined when writes must stay on the main thread. */
  static create(cfg: EventsConfig): StoreWriterThread | undefined {
    const memory = cfg.database.kind === 'sqlite' && cfg.database.path === ':memory:';
    if (memory || !existsSync(WORKER_FILE)) return undefined;
    return new StoreWriterThread(cfg);
  }

  /** Writes one message (a batch, or part of one) on the writer thread, in one transaction. */
  write(message: WriteMessage): Promise<void> {
    const worker = this.worker ?? this.start();
    const id = this.nextId++;
    const request: WriteRequest = { id, calls: message.calls, ...batchOf(message.events) };
    return new Promise<void>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.postMessage(request);
    });
  }

  /** Stops the thread (call it once no batch is in flight; any left fail as unavailable). */
  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    await worker?.terminate();
  }

  private start(): Worker {
    const init: WriterInit = { cfg: this.cfg };
    const worker = new Worker(WORKER_FILE, { workerData: init });
    worker.unref();
    worker.on('message', (reply: WriteReply) => {
      const waiter = this.pending.get(reply.id);
      if (waiter === undefined) return;
      this.pending.delete(reply.id);
      if (reply.ok) waiter.resolve();
      else
        waiter.reject(
          reply.unavailable ? new StoreUnavailableError(reply.message) : new Error(reply.message),
        );
    });
    const fail = (error: Error): void => {
      if (this.worker === worker) this.worker = undefined;
      for (const waiter of this.pending.values())
        waiter.reject(new StoreUnavailableError(`history writer stopped: ${error.message}`));
      this.pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`exit code ${code}`)));
    this.worker = worker;
    return worker;
  }
}
