import type { BatchEndpointsMode } from '../config/config.js';
import { errors, isGatewayError } from '../errors/GatewayError.js';
import { FaultLog } from '../observability/FaultLog.js';
import type { Logger } from '../observability/logger.js';

/** After a service answered that it has no batch endpoint, how long until one real batch tries it again. */
export const BATCH_REPROBE_INTERVAL_MS = 60_000;

/** Answers that mean "no such endpoint here", not "this call failed". */
const MISSING_ENDPOINT_STATUSES: ReadonlySet<number> = new Set([404, 405, 501]);

/** Where a batch endpoint is and which variable chose its mode. */
export interface BatchEndpointOptions {
  mode: BatchEndpointsMode;
  /** "chat", "auth": for logs. */
  service: string;
  path: string;
  /** CHAT_BATCH_ENDPOINTS, AUTH_BATCH_ENDPOINTS: for logs. */
  variable: string;
  logger: Logger;
}

/**
 * Whether one batch endpoint of a service is used. `auto` starts by using it; a 404/405/501 there
 * switches to single calls, and once BATCH_REPROBE_INTERVAL_MS has passed one real batch goes to
 * the endpoint again (the probe; calls meanwhile stay single), which switches back on success.
 * `true` always uses it (a missing endpoint fails the items, logged as an error); `false` never.
 * The clock is `Date.now()`, so sinon's fake timers can move it.
 */
export class BatchEndpointSupport {
  /** When a probe may go; undefined while the endpoint is thought present. */
  private probeAt?: number;
  private probing = false;
  /** A missing endpoint while forced fails every batch: logged at most once per interval. */
  private readonly faults: FaultLog;

  constructor(private readonly opts: BatchEndpointOptions) {
    this.faults = new FaultLog(opts.logger, BATCH_REPROBE_INTERVAL_MS);
  }

  get path(): string {
    return this.opts.path;
  }

  /** Whether the next call goes to the batch endpoint (without claiming the probe). */
  get inUse(): boolean {
    if (this.opts.mode !== 'auto') return this.opts.mode === 'true';
    return this.probeAt === undefined || (!this.probing && Date.now() >= this.probeAt);
  }

  /**
   * One call: `batch` while the endpoint is in use, else `single`. In `auto` mode a batch the
   * service answers as missing has stored nothing, so its items go through `single` at once.
   */
  async run<R>(batch: () => Promise<R>, single: () => Promise<R>): Promise<R> {
    if (!this.inUse) return single();
    const probe = this.probeAt !== undefined;
    this.probing ||= probe;
    try {
      const result = await batch();
      if (probe) this.found();
      return result;
    } catch (e) {
      if (!isMissingEndpoint(e)) {
        // A probe that failed otherwise says nothing either way: wait the interval again.
        if (probe) this.probeAt = Date.now() + BATCH_REPROBE_INTERVAL_MS;
        throw e;
      }
      if (this.opts.mode === 'true') throw this.missingWhileForced();
      this.missing();
      return single();
    } finally {
      if (probe) this.probing = false;
    }
  }

  private found(): void {
    this.probeAt = undefined;
    this.opts.logger.info('batch endpoint available again', { service: this.opts.service, path: this.opts.path });
  }

  private missing(): void {
    if (this.probeAt === undefined) {
      this.opts.logger.warn('service has no batch endpoint: single calls, probing again later', {
        service: this.opts.service,
        path: this.opts.path,
        probe_after_ms: BATCH_REPROBE_INTERVAL_MS,
      });
    }
    this.probeAt = Date.now() + BATCH_REPROBE_INTERVAL_MS;
  }

  private missingWhileForced(): Error {
    const { service, path, variable } = this.opts;
    this.faults.report('missing', 'error', `service has no batch endpoint but ${variable}=true: its items fail (set ${variable}=auto)`, { service, path });
    return errors.unavailable(`${service} service has no batch endpoint`);
  }
}

function isMissingEndpoint(e: unknown): boolean {
  return isGatewayError(e) && e.upstreamStatus !== undefined && MISSING_ENDPOINT_STATUSES.has(e.upstreamStatus);
}
