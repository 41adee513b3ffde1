import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import type { SessionRow } from './call-row.mapper';
import { jsonTransformer } from './json.transformer';

/**
 * A session's running summary (table `sessions`), updated in the same transaction as the calls it counts, so
 * listing sessions never aggregates over `calls`. `models` is a JSON array, in order of first use.
 */
@Entity({ name: 'sessions' })
@Index('IDX_sessions_last_at_id', ['lastAt', 'id'])
export class SessionEntity implements SessionRow {
  @PrimaryColumn({ type: 'varchar', length: 255, primaryKeyConstraintName: 'PK_sessions' })
  id!: string;

  @Column({ name: 'first_at', type: 'varchar', length: 32 })
  firstAt!: string;

  @Column({ name: 'last_at', type: 'varchar', length: 32 })
  lastAt!: string;

  @Column({ name: 'call_count', type: 'integer' })
  callCount!: number;

  @Column({ type: 'text', transformer: jsonTransformer })
  models!: string[];
}
