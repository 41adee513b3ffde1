import { Body, Controller, Get, Inject, Logger, Put, UseGuards } from '@nestjs/common';
import { ApiBody, ApiOperation } from '@nestjs/swagger';
import { GatewayErrorCode, GatewayException } from '@warden/control-plane';
import { EVENT_TYPES, EventPublisher, INSTANCE_ID, uuidv7 } from '@warden/events';
import {
  PolicyConfigException,
  PolicyEngine,
  PolicyRegistry,
  type ActiveChain,
  type PolicyTypeInfo,
} from '@warden/policy';
import { ApiAdmin, ApiErrorResponse, ApiJsonOk, API_TAGS } from '../openapi/api-docs.decorators';
import { ref } from '../openapi/schemas/schema-ref';
import { AdminAuthGuard } from './admin-auth.guard';
import { PolicySyncService, SupersededSwapError } from './policy-sync.service';

/** Admin API for the policy chain: inspect it, list the types, replace it atomically. */
@Controller('api/policy')
@UseGuards(AdminAuthGuard)
@ApiAdmin(API_TAGS.policy)
export class PolicyAdminController {
  private readonly logger = new Logger('PolicyAdmin');

  constructor(
    @Inject(PolicyEngine) private readonly engine: PolicyEngine,
    @Inject(PolicyRegistry) private readonly registry: PolicyRegistry,
    @Inject(EventPublisher) private readonly events: EventPublisher,
    @Inject(PolicySyncService) private readonly sync: PolicySyncService,
  ) {}

  /** The active chain: its configuration, policy names and version. */
  @Get()
  @ApiOperation({
    summary: 'The active policy chain',
    description: 'Its configuration, policy names and version.',
  })
  @ApiJsonOk('ActivePolicyChain', 'The active chain.')
  active(): ActiveChain {
    return this.engine.describe();
  }

  /** Every registered policy type with the JSON schema of its options. */
  @Get('types')
  @ApiOperation({
    summary: 'The policy types',
    description: 'Every registered policy type with the JSON Schema of its options.',
  })
  @ApiJsonOk('PolicyTypeList', 'The registered types.')
  types(): { types: PolicyTypeInfo[] } {
    return { types: this.registry.list() };
  }

  /** Validates `{ policies: [...] }` and swaps it in; calls in flight finish with the chain they started with. */
  @Put()
  @ApiOperation({
    summary: 'Replace the policy chain',
    description:
      'Validates and builds the whole chain, then swaps it in atomically (calls in flight finish with the chain they ' +
      'started with), publishes `policy.config.updated` and broadcasts it to the other replicas.',
  })
  @ApiBody({ schema: ref('PolicyChainConfig') })
  @ApiJsonOk('PolicyChainReplaced', 'The new active chain.')
  @ApiErrorResponse(
    400,
    'Invalid chain configuration (the message names the problem); the active chain is unchanged.',
  )
  @ApiErrorResponse(
    409,
    'A newer chain from another replica was applied while this one was being ordered; the active chain is that one.',
  )
  async replace(@Body() body: unknown): Promise<ActiveChain & { replicated: boolean }> {
    let swapped: { active: ActiveChain; replicated: boolean };
    try {
      swapped = await this.sync.swap(body, 'PUT /api/policy');
    } catch (error) {
      if (error instanceof PolicyConfigException) {
        throw new GatewayException(GatewayErrorCode.InvalidRequest, error.message);
      }
      if (error instanceof SupersededSwapError) {
        throw new GatewayException(GatewayErrorCode.Conflict, error.message);
      }
      throw error;
    }
    const { active, replicated } = swapped;
    this.events.publish({
      id: uuidv7(),
      callId: null,
      type: EVENT_TYPES.policyConfigUpdated,
      at: active.updatedAt,
      instance: INSTANCE_ID,
      data: { version: active.version, policies: active.policies.map((p) => p.name) },
    });
    const names = active.policies.map((p) => p.name).join(', ') || 'empty';
    this.logger.log(`policy chain replaced (version ${active.version}): ${names}`);
    return { ...active, replicated };
  }
}
