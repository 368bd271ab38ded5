import type { BreakerStateName, ServiceClient, ServiceHealth } from './ServiceClient.js';

/** What every backend client offers besides its calls: its name, its breaker state, close. */
export abstract class BackendClient {
  constructor(protected readonly service: ServiceClient) {}

  /** For /metrics, /api/v1/stats and the dashboard. */
  get breakerState(): BreakerStateName {
    return this.service.breakerState;
  }

  /** For /health. */
  get health(): ServiceHealth {
    return this.service.health;
  }

  get serviceName(): string {
    return this.service.name;
  }

  /** Closes pooled connections. */
  close(): void {
    this.service.close();
  }
}
