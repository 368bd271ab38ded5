import { z } from 'zod';

/** The error codes of contract section 2. */
export const ERROR_CODES = [
  'VALIDATION_FAILED',
  'AUTH_EXPIRED',
  'FORBIDDEN',
  'NOT_FOUND',
  'RATE_LIMITED',
  'PAYLOAD_TOO_LARGE',
  'SERVICE_UNAVAILABLE',
  'TIMEOUT',
  'INTERNAL',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export const errorCode = z.enum(ERROR_CODES).meta({ description: 'The error codes of contract section 2.' });

/** The `error` object of a failed ack (contract section 2). */
export const ackError = z.strictObject({
  code: errorCode,
  message: z.string().meta({ description: 'Human-readable; not for parsing.' }),
  retryable: z.boolean().meta({ description: 'True for `SERVICE_UNAVAILABLE`, `TIMEOUT` and `RATE_LIMITED`.' }),
  retry_after_ms: z
    .int()
    .min(0)
    .optional()
    .meta({ description: 'With `RATE_LIMITED` only; how long until the next attempt may pass.' }),
});
export type AckErrorBody = z.output<typeof ackError>;
