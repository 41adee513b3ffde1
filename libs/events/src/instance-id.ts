import { hostname } from 'node:os';

/** This replica's id in events: host and process. */
export const INSTANCE_ID = `${hostname()}:${process.pid}`;
