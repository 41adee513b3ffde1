import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import type { CallStatus } from '../conversation-store.port';
import type { CallRow, StoredEvent } from './call-row.mapper';
import { jsonTransformer } from './json.transformer';

/**
 * A recorded call (table `calls`). Timestamps are ISO-8601 UTC strings of one fixed width (`toISOString()`), so
 * they sort as text the same way on both drivers. `policy_actions` is `|a.x|b.y|` (or empty) so that
 * `LIKE '%|a.x|%'` filters on both drivers. Payloads are JSON text, and so are the call's events (a JSON array, in
 * arrival order: one row per call, not one per event).
 */
@Entity({ name: 'calls' })
@Index('IDX_calls_started_at_id', ['startedAt', 'id'])
@Index('IDX_calls_session_started', ['sessionId', 'startedAt'])
@Index('IDX_calls_model_started', ['model', 'startedAt'])
@Index('IDX_calls_status_started', ['status', 'startedAt'])
export class CallEntity implements CallRow {
  @PrimaryColumn({ type: 'varchar', length: 64, primaryKeyConstraintName: 'PK_calls' })
  id!: string;

  @Column({ name: 'session_id', type: 'varchar', length: 255 })
  sessionId!: string;

  @Column({ name: 'key_id', type: 'varchar', length: 255, nullable: true })
  keyId!: string | null;

  @Column({ name: 'client_format', type: 'varchar', length: 32 })
  clientFormat!: string;

  @Column({ name: 'upstream_format', type: 'varchar', length: 32, nullable: true })
  upstreamFormat!: string | null;

  @Column({ type: 'varchar', length: 255, nullable: true })
  provider!: string | null;

  @Column({ type: 'varchar', length: 255 })
  model!: string;

  @Column({ type: 'boolean' })
  stream!: boolean;

  @Column({ type: 'varchar', length: 16 })
  status!: CallStatus;

  @Column({ name: 'http_status', type: 'integer', nullable: true })
  httpStatus!: number | null;

  @Column({ name: 'started_at', type: 'varchar', length: 32 })
  startedAt!: string;

  @Column({ name: 'completed_at', type: 'varchar', length: 32, nullable: true })
  completedAt!: string | null;

  @Column({ name: 'first_token_ms', type: 'integer', nullable: true })
  firstTokenMs!: number | null;

  @Column({ name: 'duration_ms', type: 'integer', nullable: true })
  durationMs!: number | null;

  @Column({ name: 'input_tokens', type: 'integer', nullable: true })
  inputTokens!: number | null;

  @Column({ name: 'output_tokens', type: 'integer', nullable: true })
  outputTokens!: number | null;

  @Column({ type: 'text', nullable: true })
  error!: string | null;

  @Column({ name: 'policy_actions', type: 'text' })
  policyActions!: string;

  @Column({ name: 'original_request', type: 'text', nullable: true, transformer: jsonTransformer })
  originalRequest!: unknown;

  @Column({ name: 'final_request', type: 'text', nullable: true, transformer: jsonTransformer })
  finalRequest!: unknown;

  @Column({ name: 'original_response', type: 'text', nullable: true, transformer: jsonTransformer })
  originalResponse!: unknown;

  @Column({ name: 'final_response', type: 'text', nullable: true, transformer: jsonTransformer })
  finalResponse!: unknown;

  /** NULL only on a call stored before events moved here without any: read as none. */
  @Column({ type: 'text', nullable: true, transformer: jsonTransformer })
  events!: StoredEvent[] | null;
}
