import { Module, type OnApplicationShutdown } from '@nestjs/common';
import { type ConfigType } from '@nestjs/config';
import { ENV, type Env } from '@warden/config';
import { BUILTIN_POLICY_TYPES } from './builtin/builtin-policy-types';
import { closeJudgeAgents } from './judge/judge-client';
import { loadPluginPolicyTypes } from './plugins/plugin-loader';
import { policyConfig } from './policy.config';
import { PolicyEngine } from './policy-engine';
import { PolicyRegistry } from './registry/policy-registry';

/** The policy engine: registry (built-ins and operator plugins) and the active chain from `POLICY_CONFIG`. */
@Module({
  providers: [
    {
      provide: PolicyRegistry,
      inject: [policyConfig.KEY],
      useFactory: (cfg: ConfigType<typeof policyConfig>) => {
        const registry = new PolicyRegistry();
        for (const type of BUILTIN_POLICY_TYPES) registry.register(type);
        if (cfg.pluginDir !== undefined)
          for (const type of loadPluginPolicyTypes(cfg.pluginDir)) registry.register(type);
        return registry;
      },
    },
    {
      provide: PolicyEngine,
      inject: [PolicyRegistry, policyConfig.KEY, ENV],
      useFactory: (registry: PolicyRegistry, cfg: ConfigType<typeof policyConfig>, env: Env) =>
        new PolicyEngine(
          registry,
          env,
          cfg.maxStreamBufferBytes,
          PolicyEngine.readConfigFile(cfg.configFile, { required: cfg.configFileRequired }),
          cfg.configFile,
        ),
    },
  ],
  exports: [PolicyEngine, PolicyRegistry],
})
export class PolicyModule implements OnApplicationShutdown {
  async onApplicationShutdown(): Promise<void> {
    await closeJudgeAgents();
  }
}
