import { constants, createHmac, generateKeyPairSync, sign as cryptoSign, type KeyObject } from 'node:crypto';
import http from 'node:http';
import type { Socket as ClientSocket } from 'socket.io-client';
import { messageWrites } from '../../support/chatWrites.js';
import { request } from '../../support/events.js';
import { startStack, TEST_SECRET, type ConnectOptions, type Stack } from '../../support/stack.js';
import { seededRandom, type Intensity, type ScenarioResult } from '../scenario.js';

/**
 * Auth attacks: forged, tampered and misused tokens against real gateways in every verification
 * mode, identity spoofing on an authenticated socket, and cross-site WebSocket hijacking. Each
 * attempt is counted; the figures that must be zero are the accepted ones.
 */

/** Families of forged tokens, each a row pair (`<family>: tried`, `<family>: accepted`). */
export const TOKEN_FAMILIES = [
  'missing or blank',
  'garbage',
  'tampered',
  'algorithm',
  'claims',
  'header tricks',
  'channels',
  'refresh_token',
] as const;
export type TokenFamily = (typeof TOKEN_FAMILIES)[number];

/** The verification modes attacked, by section title. */
export const TOKEN_SECTIONS = {
  hs256: 'Forged tokens: AUTH_MODE=local, HS256',
  rs256: 'Forged tokens: AUTH_MODE=local, RS256 with JWT_ISSUER/JWT_AUDIENCE',
  remote: 'Forged tokens: AUTH_MODE=remote (reference auth-service)',
} as const;
export const IDENTITY_SECTION = 'Identity spoofing on an authenticated socket';
export const CSWSH_SECTION = 'Cross-site WebSocket hijacking (CORS_ORIGINS=https://app.example)';

type ClientOptions = ConnectOptions & { token?: string };
type Claims = Record<string, unknown>;
/** Signs a JWS signing input (`header.payload`) and returns the base64url signature. */
type Signer = (input: string) => string;
type KeyPair = { publicKey: KeyObject; privateKey: KeyObject };

const COMMON_ENV = { RATE_LIMIT_ENABLED: 'false', MAX_CONNECTIONS_PER_IP_PER_MIN: '100000', MAX_SOCKETS_PER_USER: '1000' };
const ALLOWED_ORIGIN = 'https://app.example';
const VICTIM = 'victim';
const HANDSHAKE_TIMEOUT_MS = 3000;
const POOL_WIDTH = 8;
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
/** The contract's handshake refusal codes (section 1), each a row of the code distribution. */
const HANDSHAKE_CODES = ['AUTH_MISSING', 'AUTH_INVALID', 'AUTH_EXPIRED', 'ORIGIN_FORBIDDEN'] as const;

const BOUNDS = {
  test: { randomGarbage: 3, randomTriples: 3, truncations: 3, flipsPerPart: 2, claimMutations: 4, attackerKeys: 1, noFallbackTokens: 2, spoofValues: 3, refreshUsers: 1 },
  report: { randomGarbage: 40, randomTriples: 60, truncations: 30, flipsPerPart: 25, claimMutations: 80, attackerKeys: 3, noFallbackTokens: 4, spoofValues: 12, refreshUsers: 5 },
} satisfies Record<Intensity, Record<string, number>>;
type Bounds = (typeof BOUNDS)[Intensity];

// ---------------------------------------------------------------------------------------------
// Forging JWS by hand: jsonwebtoken refuses to produce most of what an attacker sends.

const nowS = () => Math.floor(Date.now() / 1000);
const b64json = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

function jws(header: Claims, claims: Claims, signer?: Signer): string {
  return jwsOver(header, JSON.stringify(claims), signer);
}

/** A JWS over any payload text, JSON or not. */
function jwsOver(header: Claims, payload: string, signer?: Signer): string {
  const input = `${b64json(header)}.${Buffer.from(payload).toString('base64url')}`;
  return `${input}.${signer ? signer(input) : ''}`;
}

const hmac = (bits: number, key: string | Buffer): Signer => (input) => createHmac(`sha${bits}`, key).update(input).digest('base64url');
const rsa = (bits: number, key: KeyObject): Signer => (input) => cryptoSign(`sha${bits}`, Buffer.from(input), key).toString('base64url');
const pss = (bits: number, key: KeyObject): Signer => (input) =>
  cryptoSign(`sha${bits}`, Buffer.from(input), { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST }).toString(
    'base64url',
  );
const ecdsa = (bits: number, key: KeyObject): Signer => (input) =>
  cryptoSign(`sha${bits}`, Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' }).toString('base64url');

/** Keys shared by every mode: the RS256 mode's real pair and the attacker's material. */
interface Material {
  realRsa: KeyPair;
  attackerRsa: KeyPair[];
  attackerEc: KeyPair;
  attackerSecret: string;
}

function generateMaterial(bounds: Bounds): Material {
  const rsaPair = () => generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    realRsa: rsaPair(),
    attackerRsa: Array.from({ length: bounds.attackerKeys }, rsaPair),
    attackerEc: generateKeyPairSync('ec', { namedCurve: 'P-256' }),
    attackerSecret: 'attacker-secret-of-at-least-16-chars',
  };
}

/** A verification mode: how its gateway is configured and which key it really trusts. */
interface TokenMode {
  key: keyof typeof TOKEN_SECTIONS;
  env: Record<string, string>;
  header: { alg: string; typ: string };
  real: Signer;
  /** A key of the same algorithm family that the gateway must not trust. */
  attacker: Signer;
  issuer?: string;
  audience?: string;
  /** Forgeries only this mode's key type allows (key confusion, unpinned algorithms...). */
  algorithmForgeries(claims: Claims): Array<[string, string]>;
}

function tokenModes(m: Material): TokenMode[] {
  const secretModeForgeries = (claims: Claims): Array<[string, string]> => [
    ['HS384 signed with the real secret (only HS256 allowed)', jws({ alg: 'HS384', typ: 'JWT' }, claims, hmac(384, TEST_SECRET))],
    ['HS512 signed with the real secret (only HS256 allowed)', jws({ alg: 'HS512', typ: 'JWT' }, claims, hmac(512, TEST_SECRET))],
    ['RS256 header over an HMAC-SHA256 of the real secret', jws({ alg: 'RS256', typ: 'JWT' }, claims, hmac(256, TEST_SECRET))],
  ];
  const publicKey = m.realRsa.publicKey;
  const spkiPem = publicKey.export({ type: 'spki', format: 'pem' }) as string;
  const confusionKeys: Array<[string, string | Buffer]> = [
    ['the PEM', spkiPem],
    ['the PEM without its final newline', spkiPem.trimEnd()],
    ['the PKCS#1 PEM', publicKey.export({ type: 'pkcs1', format: 'pem' }) as string],
    ['the DER bytes', publicKey.export({ type: 'spki', format: 'der' })],
    ['the JWK JSON', JSON.stringify(publicKey.export({ format: 'jwk' }))],
  ];
  return [
    {
      key: 'hs256',
      env: {},
      header: { alg: 'HS256', typ: 'JWT' },
      real: hmac(256, TEST_SECRET),
      attacker: hmac(256, m.attackerSecret),
      algorithmForgeries: secretModeForgeries,
    },
    {
      key: 'rs256',
      env: { JWT_SECRET: '', JWT_ALGORITHMS: 'RS256', JWT_PUBLIC_KEY: spkiPem, JWT_ISSUER: 'https://auth.example', JWT_AUDIENCE: 'chat-gateway' },
      header: { alg: 'RS256', typ: 'JWT' },
      real: rsa(256, m.realRsa.privateKey),
      attacker: rsa(256, m.attackerRsa[0].privateKey),
      issuer: 'https://auth.example',
      audience: 'chat-gateway',
      algorithmForgeries: (claims) => [
        ...(['HS256', 'HS384', 'HS512'] as const).flatMap((alg) =>
          confusionKeys.map(([what, key]): [string, string] => [
            `${alg} signed with ${what} of the RS public key (key confusion)`,
            jws({ alg, typ: 'JWT' }, claims, hmac(Number(alg.slice(2)), key)),
          ]),
        ),
        ['RS384 signed with the real private key (only RS256 allowed)', jws({ alg: 'RS384', typ: 'JWT' }, claims, rsa(384, m.realRsa.privateKey))],
        ['RS512 signed with the real private key (only RS256 allowed)', jws({ alg: 'RS512', typ: 'JWT' }, claims, rsa(512, m.realRsa.privateKey))],
        ['PS256 signed with the real private key (only RS256 allowed)', jws({ alg: 'PS256', typ: 'JWT' }, claims, pss(256, m.realRsa.privateKey))],
        ['HS256 signed with the test stack JWT_SECRET', jws({ alg: 'HS256', typ: 'JWT' }, claims, hmac(256, TEST_SECRET))],
      ],
    },
    {
      key: 'remote',
      env: { AUTH_MODE: 'remote', JWT_SECRET: '' },
      header: { alg: 'HS256', typ: 'JWT' },
      real: hmac(256, TEST_SECRET),
      attacker: hmac(256, m.attackerSecret),
      algorithmForgeries: secretModeForgeries,
    },
  ];
}

function claimsFor(mode: TokenMode, userId: string, ttlS = 600): Claims {
  const now = nowS();
  return {
    sub: userId,
    iat: now,
    exp: now + ttlS,
    ...(mode.issuer ? { iss: mode.issuer } : {}),
    ...(mode.audience ? { aud: mode.audience } : {}),
  };
}

/** A token the mode's gateway accepts (or, with bad claims, signed by the key it trusts). */
const realToken = (mode: TokenMode, claims: Claims, header: Claims = {}) => jws({ ...mode.header, ...header }, claims, mode.real);

// ---------------------------------------------------------------------------------------------
// Attempts: each a handshake the gateway must refuse.

interface Attempt {
  family: TokenFamily;
  label: string;
  opts: ClientOptions;
  /** Codes the contract allows for this refusal. */
  expect: readonly string[];
  /** Replayed through `refresh_token` on an authenticated socket as well. */
  replay?: boolean;
}

/** A handshake whose acceptance is reported but is not a forgery (e.g. a future `iat`). */
interface Probe {
  kind: 'future iat' | 'unknown crit' | 'same-bytes signature';
  label: string;
  opts: ClientOptions;
}

const INVALID = ['AUTH_INVALID'] as const;
const EXPIRED = ['AUTH_EXPIRED'] as const;
const MISSING = ['AUTH_MISSING'] as const;
const INVALID_OR_EXPIRED = ['AUTH_INVALID', 'AUTH_EXPIRED'] as const;

type Rnd = () => number;
const pick = <T>(rnd: Rnd, list: ArrayLike<T>): T => list[Math.floor(rnd() * list.length)];
const between = (rnd: Rnd, min: number, max: number) => min + Math.floor(rnd() * (max - min + 1));
const randomBytes = (rnd: Rnd, n: number) => Buffer.from(Array.from({ length: n }, () => Math.floor(rnd() * 256)));

const viaAuth = (token: string): ClientOptions => ({ auth: { token } });
const viaHeader = (token: string, transport: 'websocket' | 'polling' = 'websocket'): ClientOptions => ({
  transports: [transport],
  extraHeaders: { Authorization: `Bearer ${token}` },
});
const viaQuery = (token: string, transport: 'websocket' | 'polling' = 'websocket'): ClientOptions => ({ transports: [transport], query: { token } });

function tokenAttempts(family: TokenFamily, expect: readonly string[], tokens: Array<[string, string]>, replay = true): Attempt[] {
  return tokens.map(([label, token]) => ({ family, label, opts: viaAuth(token), expect, replay }));
}

function missingOrBlank(): Attempt[] {
  const cases: Array<[string, ClientOptions]> = [
    ['no auth, no header, no query', {}],
    ['empty auth object', { auth: {} }],
    ['empty auth.token', { auth: { token: '' } }],
    ['spaces', { auth: { token: '   ' } }],
    ['tabs and newlines', { auth: { token: '\t\n\r ' } }],
    ['unicode spaces', { auth: { token: '\u00a0\u2003\ufeff' } }],
    ['auth.token null', { auth: { token: null } }],
    ['auth.token a number', { auth: { token: 12345 } }],
    ['auth.token an object', { auth: { token: { jwt: 'x' } } }],
    ['Authorization: "Bearer " with nothing after', { extraHeaders: { Authorization: 'Bearer ' } }],
    ['Authorization: Basic credentials', { extraHeaders: { Authorization: 'Basic dXNlcjpwYXNz' } }],
    ['empty token query parameter', { query: { token: '' } }],
    ['blank token query parameter', { query: { token: '   ' } }],
  ];
  return cases.map(([label, opts]) => ({ family: 'missing or blank', label, opts, expect: MISSING }));
}

function garbage(rnd: Rnd, bounds: Bounds): Attempt[] {
  const fixed: Array<[string, string]> = [
    ['not-a-jwt', 'not-a-jwt'],
    ['"null"', 'null'],
    ['"undefined"', 'undefined'],
    ['"[object Object]"', '[object Object]'],
    ['"Bearer x" inside auth.token', 'Bearer x'],
    ['three dots', '...'],
    ['a.b.c', 'a.b.c'],
    ['a lone header', 'eyJhbGciOiJIUzI1NiJ9'],
    ['SQL-ish', "' OR '1'='1' --"],
    ['NUL and control characters', '\u0000\u0001\u001b[31m'],
    ['non-ASCII', 'jeton-ünïcødé-令牌'],
    ['8 KiB of x', 'x'.repeat(8192)],
  ];
  for (let i = 0; i < bounds.randomGarbage; i++) {
    fixed.push([`random printable string #${i + 1}`, Array.from({ length: between(rnd, 1, 300) }, () => String.fromCharCode(between(rnd, 33, 126))).join('')]);
  }
  for (let i = 0; i < bounds.randomTriples; i++) {
    const part = () => randomBytes(rnd, between(rnd, 1, 120)).toString('base64url');
    fixed.push([`random base64url triple #${i + 1}`, `${part()}.${part()}.${part()}`]);
  }
  for (let i = 0; i < bounds.randomTriples; i++) {
    const header = { alg: pick(rnd, ['HS256', 'RS256', 'ES256', 'none', 'PS512']), typ: 'JWT' };
    const claims = { sub: VICTIM, exp: nowS() + 600 };
    fixed.push([`well-formed JSON with a random signature #${i + 1}`, `${b64json(header)}.${b64json(claims)}.${randomBytes(rnd, between(rnd, 16, 256)).toString('base64url')}`]);
  }
  return tokenAttempts('garbage', INVALID, fixed, false);
}

/** Replaces one character of a token part; `sameBytes` when only unused trailing bits changed. */
function flipped(token: string, part: number, index: number, replacement: string): { token: string; sameBytes: boolean } {
  const parts = token.split('.');
  const before = parts[part];
  parts[part] = before.slice(0, index) + replacement + before.slice(index + 1);
  return { token: parts.join('.'), sameBytes: Buffer.from(before, 'base64url').equals(Buffer.from(parts[part], 'base64url')) };
}

function tampered(mode: TokenMode, rnd: Rnd, bounds: Bounds): { attempts: Attempt[]; sameBytes: Probe[] } {
  const valid = realToken(mode, claimsFor(mode, VICTIM));
  const [h, p, s] = valid.split('.');
  const tokens: Array<[string, string, readonly string[]]> = [
    ['last character cut', valid.slice(0, -1), INVALID],
    ['signature removed, dot kept', `${h}.${p}.`, INVALID],
    ['signature and its dot removed', `${h}.${p}`, INVALID],
    ['header only', h, INVALID],
    ['first half', valid.slice(0, Math.floor(valid.length / 2)), INVALID],
    ["another user's payload under the victim's signature", `${h}.${realToken(mode, claimsFor(mode, 'mallory')).split('.')[1]}.${s}`, INVALID],
    ["the victim's payload under another token's signature", `${h}.${p}.${realToken(mode, claimsFor(mode, VICTIM, 900)).split('.')[2]}`, INVALID],
  ];
  for (let i = 0; i < bounds.truncations; i++) tokens.push([`truncated at random #${i + 1}`, valid.slice(0, between(rnd, 1, valid.length - 2)), INVALID]);
  const sameBytes: Probe[] = [];
  // The last signature character also carries padding bits: flipping only those keeps the bytes.
  const last = flipped(valid, 2, s.length - 1, ALPHABET[ALPHABET.indexOf(s[s.length - 1]) ^ 1]);
  if (last.sameBytes) sameBytes.push({ kind: 'same-bytes signature', label: 'different unused trailing bits', opts: viaAuth(last.token) });
  ['header', 'payload', 'signature'].forEach((name, part) => {
    for (let i = 0; i < bounds.flipsPerPart; i++) {
      const length = valid.split('.')[part].length;
      const index = between(rnd, 0, length - 1);
      const original = valid.split('.')[part][index];
      let replacement = original;
      while (replacement === original) replacement = pick(rnd, ALPHABET);
      const flip = flipped(valid, part, index, replacement);
      if (part === 2 && flip.sameBytes) sameBytes.push({ kind: 'same-bytes signature', label: `flip at ${index}`, opts: viaAuth(flip.token) });
      // A flipped payload may move `exp` into the past, which remote mode reports as AUTH_EXPIRED.
      else tokens.push([`one character flipped in the ${name} at ${index}`, flip.token, part === 1 ? INVALID_OR_EXPIRED : INVALID]);
    }
  });
  return { attempts: tokens.map(([label, token, expect]) => ({ family: 'tampered', label, opts: viaAuth(token), expect, replay: true })), sameBytes };
}

function algorithm(mode: TokenMode, m: Material): Attempt[] {
  const claims = claimsFor(mode, VICTIM);
  const tokens: Array<[string, string]> = [];
  for (const alg of ['none', 'None', 'NONE', 'nOnE']) {
    const unsigned = jws({ alg, typ: 'JWT' }, claims);
    tokens.push([`alg ${alg} with a trailing dot`, unsigned], [`alg ${alg} without a trailing dot`, unsigned.slice(0, -1)]);
  }
  tokens.push(
    ['alg none keeping a real signature', `${b64json({ alg: 'none', typ: 'JWT' })}.${b64json(claims)}.${realToken(mode, claims).split('.')[2]}`],
    ['alg none without typ', jws({ alg: 'none' }, claims)],
    ...m.attackerRsa.map((pair, i): [string, string] => [`RS256 signed with another key pair #${i + 1}`, jws({ alg: 'RS256', typ: 'JWT' }, claims, rsa(256, pair.privateKey))]),
    ['PS256 signed with another key pair', jws({ alg: 'PS256', typ: 'JWT' }, claims, pss(256, m.attackerRsa[0].privateKey))],
    ['ES256 signed with an attacker EC key', jws({ alg: 'ES256', typ: 'JWT' }, claims, ecdsa(256, m.attackerEc.privateKey))],
    ['HS256 signed with an attacker secret', jws({ alg: 'HS256', typ: 'JWT' }, claims, hmac(256, m.attackerSecret))],
    ['HS256 signed with an empty key', jws({ alg: 'HS256', typ: 'JWT' }, claims, hmac(256, ''))],
    ['no alg, signed with the real key', jws({ typ: 'JWT' }, claims, mode.real)],
    ['lower-case alg, signed with the real key', jws({ alg: mode.header.alg.toLowerCase(), typ: 'JWT' }, claims, mode.real)],
    ['alg with a trailing space, signed with the real key', jws({ alg: `${mode.header.alg} `, typ: 'JWT' }, claims, mode.real)],
    ['alg as an array, signed with the real key', jws({ alg: [mode.header.alg], typ: 'JWT' }, claims, mode.real)],
    ...mode.algorithmForgeries(claims),
  );
  return tokenAttempts('algorithm', INVALID, tokens);
}

/** Claim changes that each make a token unacceptable on their own. */
function claimMutations(mode: TokenMode): Array<[string, (c: Claims, rnd: Rnd) => void]> {
  const list: Array<[string, (c: Claims, rnd: Rnd) => void]> = [
    ['exp in the past', (c, rnd) => (c.exp = nowS() - between(rnd, 5, 86_400 * 365))],
    ['exp missing', (c) => delete c.exp],
    ['exp not a number', (c, rnd) => (c.exp = pick<unknown>(rnd, [String(nowS() + 600), null, true, [nowS() + 600], { at: nowS() + 600 }, '']))],
    ['nbf in the future', (c, rnd) => (c.nbf = nowS() + between(rnd, 30, 86_400 * 365))],
    ['nbf not a number', (c, rnd) => (c.nbf = pick<unknown>(rnd, ['yesterday', null, [0]]))],
    ['sub missing', (c) => delete c.sub],
    ['sub not a usable id', (c, rnd) => (c.sub = pick<unknown>(rnd, ['', 'x'.repeat(between(rnd, 129, 600)), {}, { id: VICTIM }, [VICTIM], null, true, false]))],
  ];
  if (mode.issuer) {
    list.push(['iss wrong', (c, rnd) => (c.iss = pick<unknown>(rnd, ['https://evil.example', mode.issuer!.toUpperCase(), `${mode.issuer}/`, [mode.issuer], '']))]);
    list.push(['iss missing', (c) => delete c.iss]);
  }
  if (mode.audience) {
    list.push(['aud wrong', (c, rnd) => (c.aud = pick<unknown>(rnd, ['another-app', mode.audience!.toUpperCase(), ['another-app'], [], '']))]);
    list.push(['aud missing', (c) => delete c.aud]);
  }
  return list;
}

function claims(mode: TokenMode, rnd: Rnd, bounds: Bounds): { attempts: Attempt[]; probes: Probe[] } {
  const base = () => claimsFor(mode, VICTIM);
  const fixed: Array<[string, Claims, readonly string[]]> = [
    ['expired a minute ago', { ...base(), exp: nowS() - 60 }, EXPIRED],
    ['expired in 1970', { ...base(), exp: 1 }, EXPIRED],
    ['exp missing', { ...base(), exp: undefined }, INVALID],
    ['exp as a string', { ...base(), exp: String(nowS() + 600) }, INVALID],
    ['nbf in the future', { ...base(), nbf: nowS() + 600 }, INVALID],
    ['sub missing', { ...base(), sub: undefined }, INVALID],
    ['sub an object', { ...base(), sub: { id: VICTIM } }, INVALID],
    ['sub an array', { ...base(), sub: [VICTIM] }, INVALID],
    ['sub empty', { ...base(), sub: '' }, INVALID],
    ['sub of 129 characters', { ...base(), sub: 'v'.repeat(129) }, INVALID],
    ['sub null', { ...base(), sub: null }, INVALID],
  ];
  if (mode.issuer) fixed.push(['wrong iss', { ...base(), iss: 'https://evil.example' }, INVALID], ['iss missing', { ...base(), iss: undefined }, INVALID]);
  if (mode.audience) fixed.push(['wrong aud', { ...base(), aud: 'another-app' }, INVALID], ['aud missing', { ...base(), aud: undefined }, INVALID]);
  const mutations = claimMutations(mode);
  for (let i = 0; i < bounds.claimMutations; i++) {
    const c = base();
    const chosen = new Set<number>();
    const count = between(rnd, 1, 3);
    while (chosen.size < count) chosen.add(between(rnd, 0, mutations.length - 1));
    for (const k of chosen) mutations[k][1](c, rnd);
    fixed.push([`random mutation #${i + 1}: ${[...chosen].map((k) => mutations[k][0]).join(' + ')}`, c, INVALID_OR_EXPIRED]);
  }
  const sign = (c: Claims) => realToken(mode, Object.fromEntries(Object.entries(c).filter(([, v]) => v !== undefined)));
  // Claims sets that are not JSON objects, under `typ: JWT` (which makes jws parse the payload).
  const notObjects: Array<[string, string]> = [
    ['payload not JSON', JSON.stringify(base()).slice(0, -1)],
    ['payload JSON null', 'null'],
    ['payload a JSON string', JSON.stringify(VICTIM)],
    ['payload a JSON array', JSON.stringify([base()])],
  ];
  return {
    attempts: [
      ...fixed.map(([label, c, expect]): Attempt => ({ family: 'claims', label, opts: viaAuth(sign(c)), expect, replay: true })),
      ...notObjects.map(([label, text]): Attempt => ({ family: 'claims', label, opts: viaAuth(jwsOver(mode.header, text, mode.real)), expect: INVALID, replay: true })),
    ],
    probes: [{ kind: 'future iat', label: 'iat an hour in the future', opts: viaAuth(sign({ ...base(), iat: nowS() + 3600 })) }],
  };
}

function headerTricks(mode: TokenMode, m: Material): { attempts: Attempt[]; probes: Probe[] } {
  const claims = claimsFor(mode, VICTIM);
  const tokens: Array<[string, string]> = [];
  m.attackerRsa.forEach((pair, i) => {
    const rs = (extra: Claims) => jws({ alg: 'RS256', typ: 'JWT', ...extra }, claims, rsa(256, pair.privateKey));
    const n = m.attackerRsa.length > 1 ? ` (attacker key #${i + 1})` : '';
    tokens.push(
      [`jku → attacker JWKS${n}`, rs({ jku: 'https://evil.example/.well-known/jwks.json', kid: 'attacker' })],
      [`jku → loopback${n}`, rs({ jku: 'http://127.0.0.1:9/jwks.json' })],
      [`jwk embedding the attacker public key${n}`, rs({ jwk: pair.publicKey.export({ format: 'jwk' }) })],
      [`x5u → attacker certificate${n}`, rs({ x5u: 'https://evil.example/cert.pem' })],
      [`x5c carrying the attacker key${n}`, rs({ x5c: [(pair.publicKey.export({ type: 'spki', format: 'der' }) as Buffer).toString('base64')] })],
      [`kid path traversal to an attacker key file${n}`, rs({ kid: '../../../../tmp/attacker.pem' })],
    );
  });
  const hs = (extra: Claims, key: string = m.attackerSecret) => jws({ alg: 'HS256', typ: 'JWT', ...extra }, claims, hmac(256, key));
  const own = (extra: Claims) => jws({ ...mode.header, ...extra }, claims, mode.attacker);
  tokens.push(
    ['jwk embedding an attacker oct key (HS256)', hs({ jwk: { kty: 'oct', k: Buffer.from(m.attackerSecret).toString('base64url') } })],
    ['jku with an HMAC signature by the attacker', hs({ jku: 'https://evil.example/jwks.json' })],
    ['kid ../../dev/null, signed with an empty key', hs({ kid: '../../../../../../dev/null' }, '')],
    ['kid /dev/null, signed with an empty key', hs({ kid: '/dev/null' }, '')],
    ["kid SQL injection selecting the attacker's secret", hs({ kid: "x' UNION SELECT 'attacker-secret' -- " }, 'attacker-secret')],
    ['kid SQL injection, empty key', hs({ kid: "' OR '1'='1" }, '')],
    ['crit [exp], attacker key', own({ crit: ['exp'] })],
    ['crit [b64] with b64=false, attacker key', own({ crit: ['b64'], b64: false })],
    ['crit naming an unknown extension, attacker key', own({ crit: ['x-trust-me'], 'x-trust-me': true })],
  );
  return {
    attempts: tokenAttempts('header tricks', INVALID, tokens),
    // Not a forgery (the real key signed it); RFC 7515 says an unknown crit must be refused.
    probes: [{ kind: 'unknown crit', label: 'crit naming an unknown extension, signed with the real key', opts: viaAuth(realToken(mode, claims, { crit: ['x-unknown'], 'x-unknown': 1 })) }],
  };
}

function channels(mode: TokenMode, bounds: Bounds): Attempt[] {
  const claims = claimsFor(mode, VICTIM);
  const valid = realToken(mode, claims);
  const sig = valid.split('.')[2];
  const forged: Array<[string, string, readonly string[]]> = [
    ['alg none', jws({ alg: 'none', typ: 'JWT' }, claims), INVALID],
    ['attacker-signed', jws(mode.header, claims, mode.attacker), INVALID],
    ['expired', realToken(mode, { ...claims, exp: nowS() - 60 }), EXPIRED],
    ['flipped signature', flipped(valid, 2, 3, sig[3] === 'A' ? 'B' : 'A').token, INVALID],
  ];
  const attempts: Attempt[] = [];
  const add = (label: string, opts: ClientOptions, expect: readonly string[]) => attempts.push({ family: 'channels', label, opts, expect });
  forged.forEach(([what, token, expect], i) => {
    add(`${what} in auth.token`, viaAuth(token), expect);
    for (const transport of ['websocket', 'polling'] as const) {
      add(`${what} in Authorization (${transport})`, viaHeader(token, transport), expect);
      add(`${what} in the token query parameter (${transport})`, viaQuery(token, transport), expect);
    }
    // No fallback: a forged token in a preferred channel is refused, whatever follows it.
    if (i >= bounds.noFallbackTokens) return;
    add(`${what} in auth.token, valid token in Authorization`, { ...viaHeader(valid), auth: { token } }, expect);
    add(`${what} in auth.token, valid token in the query`, { ...viaQuery(valid), auth: { token } }, expect);
    add(`${what} in auth.token, valid token in Authorization and the query (polling)`, {
      transports: ['polling'],
      auth: { token },
      extraHeaders: { Authorization: `Bearer ${valid}` },
      query: { token: valid },
    }, expect);
    add(`${what} in Authorization, valid token in the query`, { ...viaHeader(token), query: { token: valid } }, expect);
  });
  return attempts;
}

// ---------------------------------------------------------------------------------------------
// Running attempts.

interface Outcome {
  accepted: boolean;
  /** `connected`, a `connect_error` data code, `transport: <message>` or `no answer`. */
  code: string;
  userId?: string;
}

/** One handshake: accepted once Socket.IO says connected; the socket is closed right after. */
function handshake(stack: Stack, opts: ClientOptions): Promise<Outcome> {
  const socket = stack.client(opts);
  return new Promise<Outcome>((resolve) => {
    let connected = false;
    let settled = false;
    const done = (outcome: Outcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.disconnect();
      resolve(outcome);
    };
    const timer = setTimeout(() => done(connected ? { accepted: true, code: 'connected' } : { accepted: false, code: 'no answer' }), HANDSHAKE_TIMEOUT_MS);
    socket.once('connect', () => (connected = true));
    socket.once('connected', (greeting: { user_id?: string }) => done({ accepted: true, code: 'connected', userId: greeting?.user_id }));
    socket.once('connect_error', (e: Error & { data?: { code?: string } }) =>
      done({ accepted: false, code: typeof e.data?.code === 'string' ? e.data.code : `transport: ${e.message}` }),
    );
  });
}

async function inPool<T, R>(items: readonly T[], width: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, worker));
  return results;
}

/** Counts per family, refusal codes, and what deserves a note. */
class Tally {
  readonly families = new Map<string, { tried: number; accepted: number }>();
  readonly codes = new Map<string, number>();
  readonly accepted: string[] = [];
  readonly unexpected: string[] = [];

  /** A handshake: counted in its family, its refusal code in the distribution. */
  count(family: string, label: string, outcome: Outcome, expect?: readonly string[]): void {
    this.tried(family, label, outcome.accepted, outcome.userId);
    if (outcome.accepted) return;
    this.codes.set(outcome.code, (this.codes.get(outcome.code) ?? 0) + 1);
    if (expect && !expect.includes(outcome.code)) this.unexpected.push(`${family}: "${label}" refused with ${outcome.code}, expected ${expect.join(' or ')}`);
  }

  /** Any try: counted in its family only. */
  tried(family: string, label: string, accepted: boolean, userId?: string): void {
    const f = this.families.get(family) ?? { tried: 0, accepted: 0 };
    f.tried += 1;
    if (accepted) {
      f.accepted += 1;
      this.accepted.push(`${family}: "${label}" accepted${userId ? ` as ${userId}` : ''}`);
    }
    this.families.set(family, f);
  }

  /** Notes naming what got in and (a few of) the unexpected codes. */
  remarks(): string[] {
    const shown = 5;
    const more = this.unexpected.length - shown;
    return [
      ...this.accepted,
      ...this.unexpected.slice(0, shown).map((u) => `unexpected code: ${u}`),
      ...(more > 0 ? [`... and ${more} more refusals with an unexpected code`] : []),
    ];
  }

  /** `refused with X` rows in the contract's buckets, with the raw "other" codes in a note. */
  codeFigures(buckets: readonly string[]): { figures: Record<string, number>; other: string[] } {
    const figures: Record<string, number> = {};
    const other: string[] = [];
    for (const b of buckets) figures[`refused with ${b}`] = this.codes.get(b) ?? 0;
    let rest = 0;
    for (const [code, n] of this.codes) {
      if (buckets.includes(code)) continue;
      rest += n;
      other.push(`${code} × ${n}`);
    }
    figures['refused with another code'] = rest;
    return { figures, other };
  }
}

/** Connects `token` and resolves with the socket once greeted, or null when refused. */
async function connectWith(stack: Stack, token: string): Promise<ClientSocket | null> {
  const socket = stack.client({ token });
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(null), HANDSHAKE_TIMEOUT_MS);
    socket.once('connected', () => {
      clearTimeout(timer);
      resolve(socket);
    });
    socket.once('connect_error', () => {
      clearTimeout(timer);
      resolve(null);
    });
  });
}

/** An ack, or a synthetic failure when none came (so a hung handler counts, never throws). */
async function ackOf(socket: ClientSocket, event: string, payload: unknown): Promise<{ ok: boolean; error?: { code?: string }; [k: string]: unknown }> {
  try {
    return await request(socket, event, payload, 3000);
  } catch (e) {
    return { ok: false, error: { code: `no ack (${(e as Error).message})` } };
  }
}

// ---------------------------------------------------------------------------------------------
// The three parts of the scenario.

/** Replays every token of the `replay` attempts through `refresh_token` on the victim's own socket. */
async function refreshReplays(stack: Stack, mode: TokenMode, attempts: Attempt[], tally: Tally, notes: string[]): Promise<Map<string, number>> {
  const answers = new Map<string, number>();
  const victim = await connectWith(stack, realToken(mode, claimsFor(mode, VICTIM)));
  if (!victim) {
    notes.push('refresh_token replays skipped: the victim could not connect');
    return answers;
  }
  try {
    for (const a of attempts.filter((x) => x.replay)) {
      const ack = await ackOf(victim, 'refresh_token', { token: (a.opts.auth as { token: string }).token });
      const code = ack.ok ? 'ok' : String(ack.error?.code);
      answers.set(code, (answers.get(code) ?? 0) + 1);
      tally.tried('refresh_token', a.label, ack.ok);
    }
    const still = await ackOf(victim, 'get_online_users', { user_ids: [VICTIM] });
    if (!still.ok) notes.push(`after the refresh_token replays the victim's socket no longer answers: ${JSON.stringify(still)}`);
  } finally {
    victim.disconnect();
  }
  return answers;
}

/** "a of b" accepted, per kind of probe. */
function probeFigures(probes: Probe[], outcomes: Outcome[]): Record<string, string> {
  const figure = (kind: Probe['kind']) => {
    const mine = outcomes.filter((_, i) => probes[i].kind === kind);
    return mine.length === 0 ? 'not tried' : `${mine.filter((o) => o.accepted).length} of ${mine.length}`;
  };
  return {
    'not counted: future iat accepted': figure('future iat'),
    'not counted: unknown crit with the real key accepted': figure('unknown crit'),
    'not counted: same-bytes signature re-encodings accepted': figure('same-bytes signature'),
  };
}

async function attackMode(mode: TokenMode, m: Material, intensity: Intensity, seed: number, identity: IdentityTally): Promise<ScenarioResult> {
  const bounds = BOUNDS[intensity];
  const rnd = seededRandom(seed);
  const stack = await startStack({ ...COMMON_ENV, ...mode.env });
  const tally = new Tally();
  const notes: string[] = [];
  try {
    // Control: without it, every zero below could come from a gateway that admits no one.
    const valid = realToken(mode, claimsFor(mode, VICTIM));
    const controls: ClientOptions[] = [viaAuth(valid), viaHeader(valid), viaHeader(valid, 'polling'), viaQuery(valid), viaQuery(valid, 'polling')];
    const controlOutcomes = await inPool(controls, POOL_WIDTH, (opts) => handshake(stack, opts));
    const admitted = controlOutcomes.filter((o) => o.accepted && o.userId === VICTIM).length;
    if (admitted < controls.length) notes.push(`control refused: ${controlOutcomes.map((o) => o.code).join(', ')}`);

    const tamper = tampered(mode, rnd, bounds);
    const claim = claims(mode, rnd, bounds);
    const header = headerTricks(mode, m);
    const attempts = [
      ...missingOrBlank(),
      ...garbage(rnd, bounds),
      ...tamper.attempts,
      ...algorithm(mode, m),
      ...claim.attempts,
      ...header.attempts,
      ...channels(mode, bounds),
    ];
    const outcomes = await inPool(attempts, POOL_WIDTH, (a) => handshake(stack, a.opts));
    attempts.forEach((a, i) => tally.count(a.family, a.label, outcomes[i], a.expect));
    const probes = [...claim.probes, ...header.probes, ...tamper.sameBytes];
    const probeOutcomes = await inPool(probes, POOL_WIDTH, (p) => handshake(stack, p.opts));

    const refreshAnswers = await refreshReplays(stack, mode, attempts, tally, notes);
    await identityChecks(stack, mode, rnd, bounds, identity);

    const figures: Record<string, number | string> = {};
    let tried = 0;
    let accepted = 0;
    for (const family of TOKEN_FAMILIES) {
      const f = tally.families.get(family) ?? { tried: 0, accepted: 0 };
      figures[`${family}: tried`] = f.tried;
      figures[`${family}: accepted`] = f.accepted;
      tried += f.tried;
      accepted += f.accepted;
    }
    const { figures: codeFigures, other } = tally.codeFigures(HANDSHAKE_CODES);
    const refreshOther = [...refreshAnswers].filter(([c]) => !['FORBIDDEN', 'AUTH_EXPIRED', 'ok'].includes(c));
    Object.assign(figures, {
      'all families: tried': tried,
      'all families: accepted': accepted,
      'control: valid tokens presented': controls.length,
      'control: valid tokens admitted': admitted,
      ...codeFigures,
      'handshakes refused with a code other than expected': tally.unexpected.length,
      'refresh_token refused with FORBIDDEN': refreshAnswers.get('FORBIDDEN') ?? 0,
      'refresh_token refused with AUTH_EXPIRED': refreshAnswers.get('AUTH_EXPIRED') ?? 0,
      'refresh_token refused otherwise': refreshOther.reduce((n, [, k]) => n + k, 0),
      ...probeFigures(probes, probeOutcomes),
    });
    notes.push(
      'Not counted as forgeries (signed by the trusted key, same identity): a future `iat` (jsonwebtoken ignores `iat` unless maxAge is set, which is acceptable), an unknown `crit` extension (RFC 7515 §4.1.11 says to refuse it; jsonwebtoken does not read `crit`), and a signature re-encoded with different unused trailing base64url bits (same signature bytes).',
    );
    if (other.length) notes.push(`other refusal codes: ${other.join(', ')}`);
    if (refreshOther.length) notes.push(`other refresh_token answers: ${refreshOther.map(([c, n]) => `${c} × ${n}`).join(', ')}`);
    notes.push(...tally.remarks());
    return { name: TOKEN_SECTIONS[mode.key], figures, notes };
  } finally {
    await stack.stop();
  }
}

/** Counts of the identity part, summed over the modes. */
class IdentityTally {
  spoofsTried = 0;
  spoofsAccepted = 0;
  spoofsNotForbidden = 0;
  chatCallsAsOther = 0;
  chatCallsDuringSpoofs = 0;
  refreshTried = 0;
  refreshAccepted = 0;
  refreshNotForbidden = 0;
  socketsActingAsOther = 0;
  ownIdPresented = 0;
  ownIdAdmitted = 0;
  modes = 0;
  readonly notes: string[] = [];
}

async function identityChecks(stack: Stack, mode: TokenMode, rnd: Rnd, bounds: Bounds, t: IdentityTally): Promise<void> {
  const alice = `alice-${mode.key}`;
  const bob = `bob-${mode.key}`;
  const carol = `carol-${mode.key}`;
  const room = `room-${mode.key}`;
  stack.chat.addRoom(room, [alice, carol]);
  const socket = await connectWith(stack, realToken(mode, claimsFor(mode, alice)));
  if (!socket) {
    t.notes.push(`${mode.key}: identity checks skipped, ${alice} could not connect`);
    return;
  }
  t.modes += 1;
  try {
    // Control: an equal sender_id is ignored, and gives a message to point receipts at.
    const own = await ackOf(socket, 'send_message', { receiver_id: carol, content: 'hello', sender_id: alice });
    t.ownIdPresented += 1;
    const messageId = (own.message as { message_id?: string } | undefined)?.message_id;
    if (own.ok && messageId) t.ownIdAdmitted += 1;
    else t.notes.push(`${mode.key}: send_message with sender_id equal to the user failed: ${JSON.stringify(own)}`);

    const spoofed: unknown[] = [bob, [alice], null, `${alice} `, alice.toUpperCase(), { id: alice }, '', 42];
    for (let i = spoofed.length; i < bounds.spoofValues; i++) spoofed.push(`user-${Math.floor(rnd() * 1e9)}`);
    const values = spoofed.slice(0, Math.max(bounds.spoofValues, 1));
    const namedUsers = new Set(values.filter((v): v is string => typeof v === 'string' && v !== alice));
    const events: Array<[string, Record<string, unknown>, 'sender_id' | 'user_id']> = [
      ['send_message', { receiver_id: carol, content: 'spoof' }, 'sender_id'],
      ['send_message', { room_id: room, content: 'spoof' }, 'sender_id'],
      ['send_message', { receiver_id: carol, content: 'spoof', sender_id: alice }, 'user_id'],
      ['send_group_message', { room_id: room, content: 'spoof' }, 'sender_id'],
      ['message_read', { message_id: messageId ?? 'm-1' }, 'user_id'],
      ['message_read_status', { message_id: messageId ?? 'm-1' }, 'user_id'],
      ['message_delivered', { message_id: messageId ?? 'm-1' }, 'user_id'],
      ['delete_message', { message_id: messageId ?? 'm-1' }, 'user_id'],
      ['delete_message', { message_id: messageId ?? 'm-1' }, 'sender_id'],
      ['typing', { receiver_id: carol }, 'user_id'],
      ['join_room', { room_id: room }, 'user_id'],
    ];
    const chatBefore = stack.chat.requests.length;
    for (const [event, payload, field] of events) {
      for (const value of values) {
        const ack = await ackOf(socket, event, { ...payload, [field]: value });
        t.spoofsTried += 1;
        if (ack.ok) {
          t.spoofsAccepted += 1;
          t.notes.push(`${mode.key}: ${event} with ${field}=${JSON.stringify(value)} was accepted`);
        } else if (ack.error?.code !== 'FORBIDDEN') {
          t.spoofsNotForbidden += 1;
          t.notes.push(`${mode.key}: ${event} with ${field}=${JSON.stringify(value)} answered ${ack.error?.code}, expected FORBIDDEN`);
        }
      }
    }
    const during = stack.chat.requests.slice(chatBefore);
    t.chatCallsDuringSpoofs += during.length;
    t.chatCallsAsOther += during.filter((r) => {
      const body = (r.body ?? {}) as { sender_id?: unknown; user_id?: unknown };
      const actor = r.headers['x-user-id'];
      return [actor, body.sender_id, body.user_id].some((v) => typeof v === 'string' && namedUsers.has(v));
    }).length;

    // refresh_token with another user's valid token: refused, and the socket stays the user's.
    const others = [bob, ...Array.from({ length: bounds.refreshUsers - 1 }, (_, i) => `other-${mode.key}-${i}`)];
    const refreshTokens: Array<[string, string]> = others.flatMap((other): Array<[string, string]> => [
      [`${other}'s token`, realToken(mode, claimsFor(mode, other, 3600))],
      [`${other}'s token carrying user_id ${alice}`, realToken(mode, { ...claimsFor(mode, other, 3600), user_id: alice, id: alice })],
    ]);
    for (const [label, token] of refreshTokens) {
      const ack = await ackOf(socket, 'refresh_token', { token });
      t.refreshTried += 1;
      if (ack.ok) {
        t.refreshAccepted += 1;
        t.notes.push(`${mode.key}: refresh_token with ${label} was accepted on ${alice}'s socket`);
      } else if (ack.error?.code !== 'FORBIDDEN') {
        t.refreshNotForbidden += 1;
        t.notes.push(`${mode.key}: refresh_token with ${label} answered ${ack.error?.code}, expected FORBIDDEN`);
      }
    }
    const chatMark = stack.chat.requests.length;
    const after = await ackOf(socket, 'send_message', { receiver_id: carol, content: 'still me' });
    const [stored] = messageWrites({ requests: stack.chat.requests.slice(chatMark) });
    const sender = (after.message as { sender_id?: string } | undefined)?.sender_id;
    // A single call also names the acting user in X-User-Id; a batch item only in its body.
    const actingUser = stored?.request.path === '/messages' ? [stored.request.headers['x-user-id']] : [];
    const storedAs = [stored?.body.sender_id, ...actingUser];
    if (!after.ok || sender !== alice || storedAs.some((v) => v !== alice)) {
      t.socketsActingAsOther += 1;
      t.notes.push(`${mode.key}: after the refused refreshes the socket sent as ${sender} (chat-service saw ${JSON.stringify(storedAs)}; ack ${JSON.stringify(after.ok)})`);
    }
  } finally {
    socket.disconnect();
  }
}

function identityResult(t: IdentityTally): ScenarioResult {
  return {
    name: IDENTITY_SECTION,
    figures: {
      'modes checked': t.modes,
      'spoofed sender_id/user_id events: tried': t.spoofsTried,
      'spoofed sender_id/user_id events: accepted': t.spoofsAccepted,
      'spoofed events answered other than FORBIDDEN': t.spoofsNotForbidden,
      'chat-service calls naming a spoofed user': t.chatCallsAsOther,
      'chat-service calls made during the spoofs': t.chatCallsDuringSpoofs,
      "refresh_token with another user's valid token: tried": t.refreshTried,
      "refresh_token with another user's valid token: accepted": t.refreshAccepted,
      'refresh_token refusals other than FORBIDDEN': t.refreshNotForbidden,
      'sockets acting as another user afterwards': t.socketsActingAsOther,
      'control: events with the own id presented': t.ownIdPresented,
      'control: events with the own id admitted': t.ownIdAdmitted,
    },
    notes: [
      'Spoofed values: another user, the own id as an array / object / with a trailing space / upper-cased, null, empty string, a number (and random ids in report runs); sent on send_message (direct and room), send_group_message, message_read, message_read_status, message_delivered, delete_message, typing and join_room.',
      ...t.notes,
    ],
  };
}

/** `Access-Control-Allow-Origin` (and credentials) of a raw polling request with `origin`. */
function corsProbe(url: string, method: 'GET' | 'OPTIONS', origin: string): Promise<{ status: number; allowOrigin?: string; opened: boolean }> {
  return new Promise((resolve) => {
    const headers: Record<string, string> = { Origin: origin };
    if (method === 'OPTIONS') Object.assign(headers, { 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'authorization, content-type' });
    const req = http.request(`${url}/socket.io/?EIO=4&transport=polling`, { method, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => {
        const allow = res.headers['access-control-allow-origin'];
        resolve({ status: res.statusCode ?? 0, allowOrigin: Array.isArray(allow) ? allow.join(',') : allow, opened: body.startsWith('0{') });
      });
    });
    req.setTimeout(HANDSHAKE_TIMEOUT_MS, () => req.destroy());
    req.on('error', () => resolve({ status: 0, opened: false }));
    req.end();
  });
}

async function hijacking(intensity: Intensity): Promise<ScenarioResult> {
  const stack = await startStack({ ...COMMON_ENV, CORS_ORIGINS: ALLOWED_ORIGIN });
  try {
    const forbidden = [
      'https://evil.example',
      'null',
      'https://app.example.evil.com',
      'http://app.example',
      'https://app.example:8443',
      'https://evil.example, https://app.example',
    ];
    if (intensity === 'report') {
      forbidden.push(
        'https://APP.EXAMPLE',
        'https://app.example.',
        'https://app.example/',
        'https://app.example:443',
        'https://evilapp.example',
        'https://app.example%2F.evil.com',
        'https://app.example, https://evil.example',
        'file://',
        'chrome-extension://abcdefghijklmnop',
        '',
      );
    }
    const tally = new Tally();
    const transports = ['websocket', 'polling'] as const;
    const cases = forbidden.flatMap((origin) => transports.map((transport) => ({ origin, transport })));
    const outcomes = await inPool(cases, POOL_WIDTH, ({ origin, transport }) =>
      handshake(stack, { token: stack.token('mallory'), transports: [transport], extraHeaders: { Origin: origin } }),
    );
    cases.forEach((c, i) => tally.count(c.transport, `Origin ${JSON.stringify(c.origin)}`, outcomes[i], ['ORIGIN_FORBIDDEN']));
    const byTransport = (transport: string, pred: (o: Outcome) => boolean) => cases.filter((c, i) => c.transport === transport && pred(outcomes[i])).length;

    const allowed = await inPool(transports, 2, (transport) =>
      handshake(stack, { token: stack.token('alice'), transports: [transport], extraHeaders: { Origin: ALLOWED_ORIGIN } }),
    );
    const noOrigin = await handshake(stack, { token: stack.token('alice') });

    const probes = forbidden.flatMap((origin) => (['GET', 'OPTIONS'] as const).map((method) => ({ origin, method })));
    const answers = await inPool(probes, POOL_WIDTH, ({ origin, method }) => corsProbe(stack.url, method, origin));
    const echoed = probes.filter((p, i) => {
      const allow = answers[i].allowOrigin;
      return allow !== undefined && (allow === '*' || allow === p.origin || (p.origin !== '' && allow.includes(p.origin)));
    });
    const allowedAnswers = await Promise.all((['GET', 'OPTIONS'] as const).map((method) => corsProbe(stack.url, method, ALLOWED_ORIGIN)));

    const { figures: codeFigures, other } = tally.codeFigures(HANDSHAKE_CODES);
    const transportLevel = [...tally.codes].filter(([c]) => c.startsWith('transport:')).reduce((n, [, k]) => n + k, 0);
    const figures: Record<string, number | string> = {
      'websocket: tried': tally.families.get('websocket')?.tried ?? 0,
      'websocket: accepted': tally.families.get('websocket')?.accepted ?? 0,
      'polling: tried': tally.families.get('polling')?.tried ?? 0,
      'polling: accepted': tally.families.get('polling')?.accepted ?? 0,
      ...codeFigures,
      'refused at transport level (no code)': transportLevel,
      'websocket refusals with ORIGIN_FORBIDDEN': byTransport('websocket', (o) => o.code === 'ORIGIN_FORBIDDEN'),
      'polling refusals with ORIGIN_FORBIDDEN': byTransport('polling', (o) => o.code === 'ORIGIN_FORBIDDEN'),
      'CORS responses checked (polling GET and preflight)': probes.length,
      'CORS responses allowing a forbidden origin': echoed.length,
      'not counted: engine.io polling sessions opened for a forbidden origin': answers.filter((a) => a.opened).length,
      'control: allowed-origin handshakes tried': allowed.length,
      'control: allowed-origin handshakes connected': allowed.filter((o) => o.accepted).length,
      'control: CORS responses echoing the allowed origin': allowedAnswers.filter((a) => a.allowOrigin === ALLOWED_ORIGIN).length,
      'control: CORS responses for the allowed origin': allowedAnswers.length,
      'handshake without Origin (non-browser client)': noOrigin.accepted ? 'admitted' : `refused (${noOrigin.code})`,
    };
    const notes = [
      `Forbidden origins tried with a valid token: ${forbidden.map((o) => JSON.stringify(o)).join(', ')}.`,
      'An engine.io polling session (GET handshake) opens whatever the Origin: CORS is enforced by the browser, which cannot read the answer without Access-Control-Allow-Origin; the Socket.IO CONNECT is then refused by the gateway with ORIGIN_FORBIDDEN.',
      'A handshake without an Origin header is admitted: browsers always send Origin on WebSocket and cross-origin requests, so only non-browser clients omit it.',
      ...tally.remarks(),
      ...echoed.map((p) => `${p.method} with Origin ${JSON.stringify(p.origin)} answered Access-Control-Allow-Origin ${answers[probes.indexOf(p)].allowOrigin}`),
    ];
    if (other.length) notes.push(`other refusal codes: ${other.join(', ')}`);
    return { name: CSWSH_SECTION, figures, notes };
  } finally {
    await stack.stop();
  }
}

/** Runs every part: three verification modes (with identity checks in each), then hijacking. */
export async function run(intensity: Intensity): Promise<ScenarioResult[]> {
  const material = generateMaterial(BOUNDS[intensity]);
  const results: ScenarioResult[] = [];
  const identity = new IdentityTally();
  let seed = 0x5eed_a77a;
  for (const mode of tokenModes(material)) results.push(await attackMode(mode, material, intensity, seed++, identity));
  results.push(identityResult(identity));
  results.push(await hijacking(intensity));
  return results;
}
