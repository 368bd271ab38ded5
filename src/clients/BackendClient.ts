import type { BreakerStateName, ServiceClient } from './ServiceClient.js';

/** What every backend client offers besides its calls: its name, its breaker state, close. */
export abstract class BackendClient {
  constructor(protected readonly service: ServiceClient) {}

  /** For /metrics, /api/v1/stats and the dashboard. */
  get breakerState(): BreakerStateName {
    return this.service.breakerState;
  }

  get serviceName(): string {
    return this.service.name;
  }

  /** Closes pooled connections. */
  close(): void {
    this.service.close();
  }
}
