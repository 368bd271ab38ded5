import { expect } from 'chai';
import { errors, toErrorBody, isGatewayError } from '../../src/errors/GatewayError.js';

describe('GatewayError', () => {
  it('maps a rate limit to the contract error body with retry_after_ms', () => {
    expect(toErrorBody(errors.rateLimited(1500))).to.deep.equal({
      code: 'RATE_LIMITED', message: 'rate limit exceeded', retryable: true, retry_after_ms: 1500,
    });
  });
  it('maps an unknown thrown value to INTERNAL without leaking its message', () => {
    const body = toErrorBody(new Error('db password is hunter2'));
    expect(body).to.deep.equal({ code: 'INTERNAL', message: 'internal error', retryable: false });
  });
  it('recognises its errors by brand', () => {
    expect(isGatewayError(errors.timeout())).to.equal(true);
    expect(isGatewayError({ code: 'TIMEOUT' })).to.equal(false);
  });
});
