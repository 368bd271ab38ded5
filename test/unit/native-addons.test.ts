import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/**
 * The gateway's WebSocket server (socket.io → engine.io → ws) masks frames with bufferutil and
 * checks UTF-8 with utf-8-validate, optional native addons that silently fall back to JavaScript.
 * Their install scripts do not run (package.json `allowScripts`): on every platform they ship an
 * N-API prebuild for, that prebuild must load on the Node running the suite.
 */
const requireFromWs = createRequire(createRequire(createRequire(import.meta.url).resolve('socket.io')).resolve('engine.io'));
const wsRequire = createRequire(requireFromWs.resolve('ws'));

/** The addon as ws loads it and its JavaScript fallback, or why there is nothing to check here. */
function load(name: string): { addon: unknown; fallback: unknown } | string {
  let manifest: string;
  try {
    manifest = wsRequire.resolve(`${name}/package.json`);
  } catch {
    return `${name} is not installed (an optional dependency)`;
  }
  const platform = `${process.platform}-${process.arch}`;
  if (!existsSync(join(dirname(manifest), 'prebuilds', platform))) return `${name} has no prebuild for ${platform}: ws uses its JavaScript fallback`;
  return { addon: wsRequire(name), fallback: wsRequire(`${name}/fallback`) };
}

function skipLoudly(ctx: Mocha.Context, why: string): void {
  console.warn(`native-addons: ${why}; skipping`);
  ctx.skip();
}

describe(`native WebSocket addons on Node ${process.version}`, () => {
  it('bufferutil loads its prebuild and masks a frame as the JavaScript fallback does', function () {
    const loaded = load('bufferutil');
    if (typeof loaded === 'string') return skipLoudly(this, loaded);
    const addon = loaded.addon as { mask(src: Buffer, mask: Buffer, out: Buffer, offset: number, length: number): void };
    const fallback = loaded.fallback as typeof addon;
    expect(addon, 'bufferutil fell back to JavaScript').to.not.equal(fallback);
    const payload = Buffer.from('a message of more than forty-eight bytes, masked natively');
    const key = Buffer.from([0x12, 0x34, 0x56, 0x78]);
    const native = Buffer.alloc(payload.length);
    const reference = Buffer.alloc(payload.length);
    addon.mask(payload, key, native, 0, payload.length);
    fallback.mask(payload, key, reference, 0, payload.length);
    expect(native.equals(reference)).to.equal(true);
    expect(native.equals(payload)).to.equal(false);
  });

  it('utf-8-validate loads its prebuild and tells valid UTF-8 from invalid', function () {
    const loaded = load('utf-8-validate');
    if (typeof loaded === 'string') return skipLoudly(this, loaded);
    const isValidUTF8 = loaded.addon as (buf: Buffer) => boolean;
    expect(isValidUTF8, 'utf-8-validate fell back to JavaScript').to.not.equal(loaded.fallback);
    expect(isValidUTF8(Buffer.from('héllo wörld, 你好'))).to.equal(true);
    expect(isValidUTF8(Buffer.from([0x68, 0xc3, 0x28]))).to.equal(false);
  });
});
