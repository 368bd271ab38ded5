import { expect } from 'chai';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Express } from 'express';
import ts from 'typescript';
import { createAuthService } from '../../src/reference/authService.js';
import { createChatService } from '../../src/reference/chatService.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const docsDir = resolve(root, 'docs');
/** The Markdown a newcomer reads: the README and every file in docs/. */
const MARKDOWN_FILES = [resolve(root, 'README.md'), ...readdirSync(docsDir).filter((f) => f.endsWith('.md')).map((f) => resolve(docsDir, f))];
const CLIENTS_DIR = resolve(root, 'src/clients');
const INTEGRATION_DOC = resolve(docsDir, 'integration.md');

/** Markdown without fenced code blocks and inline code, where `[a](b)` is not a link. */
function prose(markdown: string): string {
  return markdown.replace(/^```[\s\S]*?^```/gm, '').replace(/`[^`\n]*`/g, '');
}

/** The targets of the inline links and images of a Markdown file. */
function linkTargets(markdown: string): string[] {
  return [...prose(markdown).matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((m) => m[1]);
}

/** The anchors GitHub gives a Markdown file's headings (repeats get -1, -2...). */
function headingAnchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  for (const [, text] of markdown.replace(/^```[\s\S]*?^```/gm, '').matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const slug = text.toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    anchors.add(n === 0 ? slug : `${slug}-${n}`);
  }
  return anchors;
}

/** `{user_id}`, `:user_id` and `${x}` all become `{}`; a query string is dropped. */
function normalizePath(path: string): string {
  return path.replace(/\?.*$/, '').replace(/[.:]+$/, '').replace(/\{[^}/]*\}|:[a-z_]+/g, '{}');
}

interface ServiceCall {
  /** Only when the source names it beside the path. */
  method?: string;
  path: string;
  file: string;
}

/**
 * The calls the service clients make, read from their source: each `path:` of a request (a
 * literal, or `pathOf(...)` whose non-literal segments are ids) with the `method:` beside it,
 * and each other path literal (batch endpoints handed to the code that calls them).
 */
function serviceCalls(): ServiceCall[] {
  const calls: ServiceCall[] = [];
  for (const file of readdirSync(CLIENTS_DIR).filter((f) => f.endsWith('.ts'))) {
    const source = ts.createSourceFile(file, readFileSync(resolve(CLIENTS_DIR, file), 'utf8'), ts.ScriptTarget.Latest, true);
    const visit = (node: ts.Node): void => {
      if (ts.isObjectLiteralExpression(node)) {
        const path = pathOfExpression(property(node, 'path'));
        const method = property(node, 'method');
        if (path) calls.push({ path, file, ...(method && ts.isStringLiteral(method) ? { method: method.text } : {}) });
      } else if (ts.isStringLiteral(node) && isPathLiteral(node.text) && !isPathProperty(node)) {
        calls.push({ path: node.text, file });
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return calls;
}

function property(object: ts.ObjectLiteralExpression, name: string): ts.Expression | undefined {
  const found = object.properties.find((p) => ts.isPropertyAssignment(p) && ts.isIdentifier(p.name) && p.name.text === name);
  return found && ts.isPropertyAssignment(found) ? found.initializer : undefined;
}

function isPathLiteral(text: string): boolean {
  return /^\/[a-z]/.test(text);
}

function isPathProperty(node: ts.StringLiteral): boolean {
  return ts.isPropertyAssignment(node.parent) && ts.isIdentifier(node.parent.name) && node.parent.name.text === 'path';
}

/** A path literal, or `pathOf('a', id, 'b')` as `/a/{}/b`; undefined for anything computed otherwise. */
function pathOfExpression(e: ts.Expression | undefined): string | undefined {
  if (!e) return undefined;
  if (ts.isStringLiteral(e)) return isPathLiteral(e.text) ? e.text : undefined;
  if (ts.isCallExpression(e) && ts.isIdentifier(e.expression) && e.expression.text === 'pathOf') {
    return '/' + e.arguments.map((a) => (ts.isStringLiteral(a) ? a.text : '{}')).join('/');
  }
  return undefined;
}

/** `METHOD /path` of every route an express app serves. */
function routesOf(app: Express): string[] {
  const stack = (app as unknown as { router: { stack: Array<{ route?: { path: string; methods: Record<string, boolean> } }> } }).router.stack;
  return stack.flatMap(({ route }) => (route ? Object.keys(route.methods).map((m) => `${m.toUpperCase()} ${normalizePath(route.path)}`) : []));
}

describe('documentation', () => {
  describe('links in README.md and docs/*.md', () => {
    it('finds the files to check', () => {
      expect(MARKDOWN_FILES.map((f) => relative(root, f))).to.include.members(['README.md', 'docs/integration.md', 'docs/client.md']);
    });

    for (const file of MARKDOWN_FILES) {
      const name = relative(root, file);
      it(`${name}: every relative link resolves to a file (and anchor) inside the repository`, () => {
        const markdown = readFileSync(file, 'utf8');
        const targets = linkTargets(markdown).filter((t) => !/^[a-z][a-z0-9+.-]*:/i.test(t));
        for (const target of targets) {
          const [pathPart, anchor] = target.split('#', 2) as [string, string | undefined];
          const resolved = pathPart === '' ? file : resolve(dirname(file), decodeURIComponent(pathPart));
          const inside = relative(root, resolved);
          expect(inside.startsWith('..') || isAbsolute(inside), `${name} links ${target}, outside the repository`).to.equal(false);
          expect(existsSync(resolved), `${name} links ${target}, which does not exist`).to.equal(true);
          if (anchor && resolved.endsWith('.md') && statSync(resolved).isFile()) {
            expect([...headingAnchors(readFileSync(resolved, 'utf8'))], `${name} links ${target}: no such heading in ${basename(resolved)}`).to.include(anchor);
          }
        }
      });
    }

    it('never points at the contract outside the repository', () => {
      for (const file of MARKDOWN_FILES) {
        expect(readFileSync(file, 'utf8'), relative(root, file)).not.to.match(/\.\.\/shared\/|PROTOCOL\.md/);
      }
    });

    it('resolves GitHub-style heading anchors as the check above reads them', () => {
      const anchors = headingAnchors('# Clients\n## The typed client (`src/sdk/`)\n## Choices where the contract leaves room\n## Clients\n```\n# not a heading\n```');
      expect([...anchors]).to.deep.equal(['clients', 'the-typed-client-srcsdk', 'choices-where-the-contract-leaves-room', 'clients-1']);
    });
  });

  describe('docs/integration.md', () => {
    const calls = serviceCalls();
    const doc = readFileSync(INTEGRATION_DOC, 'utf8');
    /** `METHOD /path` as the document writes them (a sink's `POST {url}/events` as `POST /events`). */
    const documentedCalls = new Set(
      [...doc.matchAll(/\b(GET|POST|PUT|DELETE|PATCH) (?:\{url\})?(\/[\w{}:./-]*)/g)].map((m) => `${m[1]} ${normalizePath(m[2])}`),
    );
    const documentedPaths = new Set([...documentedCalls].map((c) => c.split(' ')[1]));

    it('reads the calls of every service client from src/clients/', () => {
      const files = new Set(calls.map((c) => c.file));
      expect([...files]).to.include.members(['AuthClient.ts', 'ChatClient.ts', 'SinkPublisher.ts']);
      expect(calls.map((c) => normalizePath(c.path))).to.include.members(['/messages', '/messages/{}/receipts', '/rooms/{}/members/{}', '/auth/verify']);
    });

    it('names every path the service clients call, with its method where the code gives it', () => {
      for (const call of calls) {
        const path = normalizePath(call.path);
        if (call.method) expect([...documentedCalls], `${call.file} calls ${call.method} ${call.path}`).to.include(`${call.method} ${path}`);
        else expect([...documentedPaths], `${call.file} calls ${call.path}`).to.include(path);
      }
    });

    it('has reference services that serve every call the auth and chat clients make', () => {
      const served = [...routesOf(createAuthService({ jwtSecret: 'a-secret-of-16-chars-or-more' }).app), ...routesOf(createChatService().app)];
      const servedPaths = served.map((r) => r.split(' ')[1]);
      for (const call of calls.filter((c) => c.file !== 'SinkPublisher.ts')) {
        const path = normalizePath(call.path);
        if (call.method) expect(served, `${call.file} calls ${call.method} ${call.path}`).to.include(`${call.method} ${path}`);
        else expect(servedPaths, `${call.file} calls ${call.path}`).to.include(path);
      }
    });
  });
});
