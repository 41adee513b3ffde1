import { Column, Entity, ForeignKey, Index, PrimaryColumn } from 'typeorm';
import type { CallEventRow } from './call-row.mapper';
import { CallEntity } from './call.entity';
import { jsonTransformer } from './json.transformer';

/**
 * One event of a call (table `call_events`), keyed by the event id so that re-delivery inserts nothing
 * (`ON CONFLICT DO NOTHING`). Deleted with its call (foreign key `ON DELETE CASCADE`).
 */
@Entity({ name: 'call_events' })
@Index('IDX_call_events_call_at', ['callId', 'at', 'id'])
export class CallEventEntity implements CallEventRow {
  @PrimaryColumn({ type: 'varchar', length: 64, primaryKeyConstraintName: 'PK_call_events' })
  id!: string;

  @Column({ name: 'call_id', type: 'varchar', length: 64 })
  @ForeignKey(() => CallEntity, { name: 'FK_call_events_call', onDelete: 'CASCADE' })
  callId!: string;

  @Column({ type: 'varchar', length: 255 })
  type!: string;

  @Column({ type: 'varchar', length: 32 })
  at!: string;

  @Column({ type: 'varchar', length: 255 })
  instance!: string;

  @Column({ type: 'text', transformer: jsonTransformer })
  data!: unknown;
}
