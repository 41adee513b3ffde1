import { type MigrationInterface, type QueryRunner, Table, TableForeignKey, TableIndex } from 'typeorm';

const ID = { type: 'varchar', length: '64' } as const;
const NAME = { type: 'varchar', length: '255' } as const;
const TIMESTAMP = { type: 'varchar', length: '32' } as const;

/**
 * The history tables: `calls`, `call_events`, `sessions`. Written with the QueryRunner API only (no dialect SQL),
 * so it runs on PostgreSQL and SQLite alike; column types are the ones both drivers map the same way.
 */
export class InitHistory1767225600000 implements MigrationInterface {
  name = 'InitHistory1767225600000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'calls',
        columns: [
          { name: 'id', ...ID, isPrimary: true, primaryKeyConstraintName: 'PK_calls' },
          { name: 'session_id', ...NAME },
          { name: 'key_id', ...NAME, isNullable: true },
          { name: 'client_format', type: 'varchar', length: '32' },
          { name: 'upstream_format', type: 'varchar', length: '32', isNullable: true },
          { name: 'provider', ...NAME, isNullable: true },
          { name: 'model', ...NAME },
          { name: 'stream', type: 'boolean' },
          { name: 'status', type: 'varchar', length: '16' },
          { name: 'http_status', type: 'integer', isNullable: true },
          { name: 'started_at', ...TIMESTAMP },
          { name: 'completed_at', ...TIMESTAMP, isNullable: true },
          { name: 'first_token_ms', type: 'integer', isNullable: true },
          { name: 'duration_ms', type: 'integer', isNullable: true },
          { name: 'input_tokens', type: 'integer', isNullable: true },
          { name: 'output_tokens', type: 'integer', isNullable: true },
          { name: 'error', type: 'text', isNullable: true },
          { name: 'policy_actions', type: 'text' },
          { name: 'original_request', type: 'text', isNullable: true },
          { name: 'final_request', type: 'text', isNullable: true },
          { name: 'original_response', type: 'text', isNullable: true },
          { name: 'final_response', type: 'text', isNullable: true },
        ],
        indices: [
          new TableIndex({ name: 'IDX_calls_started_at_id', columnNames: ['started_at', 'id'] }),
          new TableIndex({ name: 'IDX_calls_session_started', columnNames: ['session_id', 'started_at'] }),
          new TableIndex({ name: 'IDX_calls_model_started', columnNames: ['model', 'started_at'] }),
          new TableIndex({ name: 'IDX_calls_status_started', columnNames: ['status', 'started_at'] }),
        ],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'call_events',
        columns: [
          { name: 'id', ...ID, isPrimary: true, primaryKeyConstraintName: 'PK_call_events' },
          { name: 'call_id', ...ID },
          { name: 'type', ...NAME },
          { name: 'at', ...TIMESTAMP },
          { name: 'instance', ...NAME },
          { name: 'data', type: 'text' },
        ],
        indices: [new TableIndex({ name: 'IDX_call_events_call_at', columnNames: ['call_id', 'at', 'id'] })],
        foreignKeys: [
          new TableForeignKey({
            name: 'FK_call_events_call',
            columnNames: ['call_id'],
            referencedTableName: 'calls',
            referencedColumnNames: ['id'],
            onDelete: 'CASCADE',
          }),
        ],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'sessions',
        columns: [
          { name: 'id', ...NAME, isPrimary: true, primaryKeyConstraintName: 'PK_sessions' },
          { name: 'first_at', ...TIMESTAMP },
          { name: 'last_at', ...TIMESTAMP },
          { name: 'call_count', type: 'integer' },
          { name: 'models', type: 'text' },
        ],
        indices: [new TableIndex({ name: 'IDX_sessions_last_at_id', columnNames: ['last_at', 'id'] })],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('sessions');
    await queryRunner.dropTable('call_events');
    await queryRunner.dropTable('calls');
  }
}
