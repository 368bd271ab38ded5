/**
 * The demo web app: a small chat page on the typed client (src/sdk). Bundled by esbuild when the
 * dev stack starts (src/dev/devStack.ts), which also serves /api/login, /api/config, /api/users,
 * /api/rooms and /api/history. No framework: state lives in a few maps, and each change re-renders
 * the part it touches. On a narrow screen the page shows either the list or the conversation.
 */
import { GatewayClient, isGatewayClientError, type ChatMessage, type StateChange } from '@chat-gateway/client';

interface WebConfig {
  gateway_port: number;
  demo_users: string[];
  demo_room: string;
}
/**
 * What the sender sees of a message: clock while sending, ✓ stored, ✓✓ delivered, blue ✓✓ read
 * (in a room: read by every other member; "read by n" counts the readers until then).
 */
type Tick = 'sending' | 'sent' | 'delivered' | 'read' | 'failed';
const TICK_TEXT: Record<Tick, string> = { failed: '! not sent', sending: '…', sent: '✓', delivered: '✓✓', read: '✓✓' };

/** A message on screen: `key` is the message id, or the client_msg_id until the server stored it. */
interface Shown {
  key: string;
  sender_id: string;
  content: string;
  created_at: string;
  stored: boolean;
  /** When it was put on screen (a counter): tells a history answer from what arrived meanwhile. */
  seq: number;
}
/** A message as /api/history answers it: with who got it and who read it. */
type HistoryMessage = ChatMessage & { delivered_to?: string[]; read_by?: string[] };
/** Who got and who read a message of ours; receipts only ever add to it. */
interface Receipts {
  delivered: Set<string>;
  read: Set<string>;
}
interface Conversation {
  key: string;
  kind: 'direct' | 'room';
  /** The peer's user id or the room id. */
  id: string;
  messages: Shown[];
  unread: number;
  /** Who is typing here, with the timer that forgets them. */
  typing: Map<string, ReturnType<typeof setTimeout>>;
  members?: string[];
}

const TYPING_SEND_EVERY_MS = 2500;
const TYPING_IDLE_MS = 3000;
/** Forget a typist after this long without news (the gateway sends user_stop_typing itself after 5 s). */
const TYPING_FORGET_MS = 6000;
const ONLINE_REFRESH_MS = 15_000;
const READ_AT_MOST = 20;
/** Below this width the page shows the list or the conversation, not both (styles.css agrees). */
const NARROW = matchMedia('(max-width: 720px)');

const el = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const ui = {
  login: el('login'),
  demoUsers: el('demo-users'),
  loginForm: el<HTMLFormElement>('login-form'),
  loginName: el<HTMLInputElement>('login-name'),
  loginError: el('login-error'),
  chat: el('chat'),
  back: el<HTMLButtonElement>('back'),
  conn: el('conn'),
  me: el('me'),
  logout: el<HTMLButtonElement>('logout'),
  banner: el('banner'),
  rooms: el('rooms'),
  people: el('people'),
  convAvatar: el('conv-avatar'),
  convTitle: el('conv-title'),
  convSub: el('conv-sub'),
  messages: el('messages'),
  typing: el('typing'),
  composer: el<HTMLFormElement>('composer'),
  text: el<HTMLInputElement>('text'),
  send: el<HTMLButtonElement>('send'),
  toast: el('toast'),
};

let config: WebConfig;
let client: GatewayClient | undefined;
let me = '';
let active: Conversation | undefined;
const conversations = new Map<string, Conversation>();
const people = new Set<string>();
const online = new Set<string>();
const lastSeen = new Map<string, string>();
/** Our sends by client_msg_id until the server stored them (kept after, to know our own echoes). */
const localSends = new Map<string, 'sending' | 'failed' | 'stored'>();
/** Receipts of our messages by message id. */
const receipts = new Map<string, Receipts>();
let shownSeq = 0;
/** Messages of others this page already marked read. */
const readSent = new Set<string>();

// ---------- tiny DOM helper ----------

function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Record<string, string | ((e: Event) => void) | undefined> = {},
  ...children: Array<Node | string | undefined | false>
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === undefined) continue;
    if (typeof value === 'function') node.addEventListener(name.replace(/^on/, ''), value);
    else if (name === 'class') node.className = value;
    else node.setAttribute(name, value);
  }
  for (const child of children) if (child !== undefined && child !== false) node.append(child);
  return node;
}

function avatar(name: string, kind: 'direct' | 'room', showPresence: boolean): HTMLElement {
  let hash = 0;
  for (const c of name) hash = (hash * 31 + c.charCodeAt(0)) >>> 0;
  const node = h('div', { class: `avatar ${kind === 'room' ? 'room' : ''}`, style: `background: hsl(${hash % 360} 55% 45%)` }, kind === 'room' ? '#' : name[0]);
  if (showPresence) node.append(h('span', { class: `dot ${online.has(name) ? 'online' : ''}` }));
  return node;
}

const time = (iso: string) => new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });

function toast(text: string): void {
  ui.toast.textContent = text;
  ui.toast.hidden = false;
  setTimeout(() => (ui.toast.hidden = true), 3500);
}

function describe(e: unknown): string {
  return isGatewayClientError(e) ? `${e.code}: ${e.message}` : String((e as Error)?.message ?? e);
}

/** A refusal of the page's own API, with its error code (e.g. VALIDATION_FAILED). */
class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

async function api<T>(path: string, body?: unknown): Promise<T> {
  const res = await fetch(path, body === undefined ? {} : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const json = await res.json().catch(() => undefined);
  if (!res.ok) throw new ApiError(json?.error?.code ?? `HTTP_${res.status}`, json?.error?.message ?? `${path}: HTTP ${res.status}`);
  return json as T;
}

// ---------- conversations ----------

function conversation(kind: 'direct' | 'room', id: string): Conversation {
  const key = `${kind}:${id}`;
  let conv = conversations.get(key);
  if (!conv) {
    conv = { key, kind, id, messages: [], unread: 0, typing: new Map() };
    conversations.set(key, conv);
    if (kind === 'direct') people.add(id);
  }
  return conv;
}

function conversationOf(m: Pick<ChatMessage, 'room_id' | 'receiver_id' | 'sender_id'>): Conversation {
  if (m.room_id) return conversation('room', m.room_id);
  return conversation('direct', m.sender_id === me ? m.receiver_id! : m.sender_id);
}

const target = (conv: Conversation) => (conv.kind === 'room' ? { room_id: conv.id } : { receiver_id: conv.id });

function upsert(conv: Conversation, m: ChatMessage, replacing?: string): void {
  const shown: Shown = { key: m.message_id, sender_id: m.sender_id, content: m.content, created_at: m.created_at, stored: true, seq: ++shownSeq };
  const at = conv.messages.findIndex((s) => s.key === m.message_id || (replacing !== undefined && s.key === replacing));
  if (at >= 0) conv.messages[at] = shown;
  else conv.messages.push(shown);
  conv.messages.sort((a, b) => a.created_at.localeCompare(b.created_at));
}

function receiptsOf(messageId: string): Receipts {
  let r = receipts.get(messageId);
  if (!r) receipts.set(messageId, (r = { delivered: new Set(), read: new Set() }));
  return r;
}

function addReceipt(messageId: string, userId: string, status: 'delivered' | 'read'): void {
  const r = receiptsOf(messageId);
  r.delivered.add(userId); // read implies delivered
  if (status === 'read') r.read.add(userId);
}

/** The tick of our message; in a room it turns read only once every other member read it. */
function tickOf(conv: Conversation, m: Shown): Tick {
  if (!m.stored) return localSends.get(m.key) === 'failed' ? 'failed' : 'sending';
  const r = receipts.get(m.key);
  if (!r || r.delivered.size === 0) return 'sent';
  if (conv.kind === 'direct') return r.read.size > 0 ? 'read' : 'delivered';
  const others = (conv.members ?? []).filter((u) => u !== me);
  return others.length > 0 && others.every((u) => r.read.has(u)) ? 'read' : 'delivered';
}

function removeMessage(messageId: string): void {
  for (const conv of conversations.values()) conv.messages = conv.messages.filter((m) => m.key !== messageId);
  renderMessages();
  renderSidebar();
}

/**
 * Replaces the conversation's messages with the chat-service's history and its receipt state,
 * keeping only what arrived or was sent while the answer was on its way: after a restart of the
 * stack the old messages are gone there, so they go here too (no duplicates of a re-run demo).
 */
async function loadHistory(conv: Conversation): Promise<void> {
  const query = conv.kind === 'room' ? `room_id=${encodeURIComponent(conv.id)}` : `user_id=${encodeURIComponent(me)}&peer_id=${encodeURIComponent(conv.id)}`;
  const asked = shownSeq;
  try {
    const { messages } = await api<{ messages: HistoryMessage[] }>(`/api/history?${query}`);
    conv.messages = conv.messages.filter((s) => !s.stored || s.seq > asked);
    for (const { delivered_to = [], read_by = [], ...m } of messages) {
      upsert(conv, m);
      if (m.sender_id !== me) continue;
      for (const u of delivered_to) addReceipt(m.message_id, u, 'delivered');
      for (const u of read_by) addReceipt(m.message_id, u, 'read');
    }
  } catch (e) {
    toast(`history: ${describe(e)}`);
  }
}

async function open(conv: Conversation): Promise<void> {
  active = conv;
  conv.unread = 0;
  ui.chat.dataset.view = 'conversation';
  ui.text.disabled = ui.send.disabled = false;
  renderAll();
  ui.text.focus();
  await loadHistory(conv);
  if (active === conv) {
    markRead(conv);
    renderMessages();
  }
}

/** Whether the user sees the conversation: it is open, the page visible, and on a phone not behind the list. */
function inView(conv: Conversation): boolean {
  return conv === active && document.visibilityState === 'visible' && !(NARROW.matches && ui.chat.dataset.view !== 'conversation');
}

/** Marks the open conversation's messages from others read, while the user sees it. */
function markRead(conv: Conversation): void {
  if (!client || !inView(conv)) return;
  const unread = conv.messages.filter((m) => m.stored && m.sender_id !== me && !readSent.has(m.key)).slice(-READ_AT_MOST);
  for (const m of unread) {
    readSent.add(m.key);
    client.markRead({ message_id: m.key }).catch((e) => {
      readSent.delete(m.key);
      if (!isGatewayClientError(e) || e.code !== 'NOT_FOUND') console.warn('message_read', e);
    });
  }
  conv.unread = 0;
}

// ---------- rendering ----------

function renderAll(): void {
  renderSidebar();
  renderHeader();
  renderMessages();
}

function renderSidebar(): void {
  const item = (conv: Conversation, label: string) => {
    const typists = [...conv.typing.keys()];
    const last = conv.messages.at(-1);
    const preview = typists.length
      ? h('div', { class: 'preview is-typing' }, conv.kind === 'room' ? `${typists.join(', ')} typing…` : 'typing…')
      : h('div', { class: 'preview' }, last ? `${last.sender_id === me ? 'You: ' : conv.kind === 'room' ? `${last.sender_id}: ` : ''}${last.content}` : idle(conv));
    return h(
      'li',
      {
        class: `item ${conv === active ? 'active' : ''}`,
        'data-conversation': conv.key,
        'data-online': conv.kind === 'direct' ? String(online.has(conv.id)) : undefined,
        'data-members': conv.members?.join(','),
        onclick: () => void open(conv),
      },
      avatar(conv.id, conv.kind, conv.kind === 'direct'),
      h('div', { class: 'who' }, h('div', { class: 'name' }, label), preview),
      conv.unread > 0 && h('span', { class: 'badge' }, String(conv.unread)),
    );
  };
  const rooms = [...conversations.values()].filter((c) => c.kind === 'room');
  ui.rooms.replaceChildren(...rooms.map((c) => item(c, `#${c.id}`)));
  const others = [...people].filter((p) => p !== me).sort((a, b) => Number(online.has(b)) - Number(online.has(a)) || a.localeCompare(b));
  ui.people.replaceChildren(...others.map((p) => item(conversation('direct', p), p)));
}

/** The sidebar's second line when a conversation has no message yet. */
function idle(conv: Conversation): string {
  if (conv.kind === 'room') return conv.members ? `${conv.members.length} members` : '';
  return online.has(conv.id) ? 'online' : 'offline';
}

function renderHeader(): void {
  if (!active) return;
  const conv = active;
  ui.convAvatar.replaceWith((ui.convAvatar = avatar(conv.id, conv.kind, conv.kind === 'direct')));
  ui.convAvatar.id = 'conv-avatar';
  ui.convTitle.textContent = conv.kind === 'room' ? `#${conv.id}` : conv.id;
  const isOnline = conv.kind === 'direct' && online.has(conv.id);
  ui.convSub.className = `conv-sub ${isOnline ? 'online' : ''}`;
  if (conv.kind === 'room') ui.convSub.textContent = conv.members ? conv.members.join(', ') : '';
  else if (isOnline) ui.convSub.textContent = 'online';
  else ui.convSub.textContent = lastSeen.has(conv.id) ? `offline · last seen ${time(lastSeen.get(conv.id)!)}` : 'offline';
  ui.convSub.dataset.presence = isOnline ? 'online' : 'offline';
  const typists = [...conv.typing.keys()];
  ui.typing.textContent = typists.length === 0 ? '' : `${typists.join(', ')} ${typists.length > 1 ? 'are' : 'is'} typing…`;
}

function renderMessages(): void {
  if (!active) return;
  const conv = active;
  const rows = conv.messages.map((m) => {
    const own = m.sender_id === me;
    const tick = tickOf(conv, m);
    const readers = [...(receipts.get(m.key)?.read ?? [])];
    const readBy = own && conv.kind === 'room' && readers.length > 0 && h('span', { class: 'read-by', title: `read by ${readers.join(', ')}` }, `read by ${readers.length}`);
    return h(
      'li',
      { class: `msg ${own ? 'own' : ''}`, 'data-id': m.key, 'data-sender': m.sender_id },
      conv.kind === 'room' && !own && h('div', { class: 'author', style: `color: hsl(${hue(m.sender_id)} 55% 38%)` }, m.sender_id),
      h('div', { class: 'body' }, m.content),
      h('div', { class: 'meta' }, readBy, h('span', {}, time(m.created_at)), own && h('span', { class: 'tick', 'data-status': tick, title: tick }, TICK_TEXT[tick])),
      own && m.stored && h('button', { class: 'delete', type: 'button', title: 'Delete for everyone', onclick: () => void remove(m.key) }, '✕'),
    );
  });
  if (rows.length === 0) rows.push(h('li', { class: 'empty' }, 'No messages yet. Say hi!'));
  ui.messages.replaceChildren(...rows);
  ui.messages.scrollTop = ui.messages.scrollHeight;
}

function hue(name: string): number {
  let hash = 0;
  for (const c of name) hash = (hash * 31 + c.charCodeAt(0)) >>> 0;
  return hash % 360;
}

function showState(change: StateChange): void {
  const labels: Record<string, string> = { connected: 'connected', connecting: 'connecting…', reconnecting: 'reconnecting…', disconnected: 'offline', closed: 'offline' };
  ui.conn.dataset.state = change.state;
  ui.conn.textContent = labels[change.state];
  if (change.state !== 'connected' && online.size > 0) {
    // Without a connection nobody's presence is known: grey the dots until the reconnect refreshes them.
    online.clear();
    renderSidebar();
    renderHeader();
  }
  if (change.state === 'connected' || change.state === 'closed') {
    ui.banner.hidden = true;
    return;
  }
  if (change.state === 'reconnecting') {
    ui.banner.textContent =
      change.reason === 'server_shutdown' ? 'The server is restarting. Reconnecting…' : 'Connection lost. Reconnecting…';
  } else if (change.state === 'disconnected') {
    ui.banner.textContent = `Disconnected${change.error ? ` (${change.error.code})` : ''}. Reload the page to try again.`;
  } else return;
  ui.banner.hidden = false;
}

// ---------- actions ----------

async function send(text: string): Promise<void> {
  if (!client || !active) return;
  const conv = active;
  const clientMsgId = newId();
  conv.messages.push({ key: clientMsgId, sender_id: me, content: text, created_at: new Date().toISOString(), stored: false, seq: ++shownSeq });
  localSends.set(clientMsgId, 'sending');
  renderMessages();
  stopTyping();
  try {
    const { message } = await client.sendMessage({ ...target(conv), content: text, client_msg_id: clientMsgId });
    localSends.set(clientMsgId, 'stored');
    upsert(conv, message, clientMsgId);
  } catch (e) {
    localSends.set(clientMsgId, 'failed');
    toast(`not sent: ${describe(e)}`);
  }
  renderMessages();
  renderSidebar();
}

async function remove(messageId: string): Promise<void> {
  try {
    await client?.deleteMessage({ message_id: messageId });
    removeMessage(messageId);
  } catch (e) {
    toast(`not deleted: ${describe(e)}`);
  }
}

let typingTo: Conversation | undefined;
let typingSentAt = 0;
let typingIdle: ReturnType<typeof setTimeout> | undefined;

function onInput(): void {
  if (!client || !active) return;
  if (ui.text.value.trim() === '') return stopTyping();
  if (typingTo !== active || Date.now() - typingSentAt > TYPING_SEND_EVERY_MS) {
    if (typingTo && typingTo !== active) stopTyping();
    typingTo = active;
    typingSentAt = Date.now();
    client.typing(target(active)).catch(() => undefined); // best effort; throttled by the gateway
  }
  clearTimeout(typingIdle);
  typingIdle = setTimeout(stopTyping, TYPING_IDLE_MS);
}

function stopTyping(): void {
  clearTimeout(typingIdle);
  if (typingTo && client) client.stopTyping(target(typingTo)).catch(() => undefined);
  typingTo = undefined;
  typingSentAt = 0;
}

function setTyping(conv: Conversation, userId: string, typing: boolean): void {
  clearTimeout(conv.typing.get(userId));
  if (typing) conv.typing.set(userId, setTimeout(() => setTyping(conv, userId, false), TYPING_FORGET_MS));
  else conv.typing.delete(userId);
  renderSidebar();
  if (conv === active) renderHeader();
}

// ---------- session ----------

function wire(c: GatewayClient): void {
  c.onStateChange((change) => {
    showState(change);
    if (change.state === 'connected' && me) void afterReconnect();
  });
  c.on('receive_message', ({ message }) => {
    const conv = conversationOf(message);
    if (message.sender_id === me && message.client_msg_id && localSends.has(message.client_msg_id)) return; // our own send, acked separately
    upsert(conv, message);
    if (message.sender_id !== me) {
      conv.typing.delete(message.sender_id);
      c.markDelivered({ message_id: message.message_id }).catch(() => undefined);
      if (inView(conv)) markRead(conv);
      else conv.unread++;
    }
    renderSidebar();
    if (conv === active) {
      renderHeader();
      renderMessages();
    }
  });
  c.on('message_status_update', ({ message_id, status, user_id }) => {
    addReceipt(message_id, user_id, status);
    renderMessages();
  });
  c.on('message_deleted', ({ message_id }) => removeMessage(message_id));
  c.on('user_connected', ({ user_id }) => {
    const newcomer = !people.has(user_id);
    people.add(user_id);
    online.add(user_id);
    renderSidebar();
    renderHeader();
    // Someone new may have joined our rooms on logging in: their member lists changed.
    if (newcomer) void refreshRooms().catch((e) => toast(`rooms: ${describe(e)}`));
  });
  c.on('user_disconnected', ({ user_id, last_seen }) => {
    online.delete(user_id);
    lastSeen.set(user_id, last_seen);
    for (const conv of conversations.values()) if (conv.typing.has(user_id)) setTyping(conv, user_id, false);
    renderSidebar();
    renderHeader();
  });
  c.on('user_typing', (p) => setTyping(p.room_id ? conversation('room', p.room_id) : conversation('direct', p.user_id), p.user_id, true));
  c.on('user_stop_typing', (p) => setTyping(p.room_id ? conversation('room', p.room_id) : conversation('direct', p.user_id), p.user_id, false));
  c.on('server_shutdown', () => showState({ state: 'reconnecting', reason: 'server_shutdown' }));
  c.on('error', (e) => console.warn('gateway error', e));
}

/** Everyone worth showing: whoever logged in to the demo and whoever is online, watched for presence changes. */
async function refreshPresence(): Promise<void> {
  if (!client) return;
  const [{ users }, known] = await Promise.all([client.getOnlineUsers(), api<{ users: string[] }>('/api/users')]);
  const unwatched = [...new Set([...known.users, ...users, ...people])].filter((u) => u !== me);
  for (const u of unwatched) people.add(u);
  const { online: now } = await client.subscribePresence({ user_ids: unwatched });
  online.clear();
  for (const u of now) online.add(u);
  renderSidebar();
  renderHeader();
}

/** Our rooms and their members from the chat-service; joins the ones we are not in yet. */
async function refreshRooms(): Promise<void> {
  const { rooms } = await api<{ rooms: Array<{ room_id: string; members: string[] }> }>(`/api/rooms?user_id=${encodeURIComponent(me)}`);
  for (const room of rooms) {
    const conv = conversation('room', room.room_id);
    // Members known: joined before (the client joins its rooms again after a reconnection).
    if (conv.members === undefined) await client!.joinRoom({ room_id: room.room_id });
    conv.members = room.members;
  }
  renderAll();
}

async function afterReconnect(): Promise<void> {
  // Rooms and presence subscriptions were restored by the client; catch up on what we missed.
  await refreshRooms().catch((e) => toast(`rooms: ${describe(e)}`));
  await refreshPresence().catch((e) => toast(describe(e)));
  if (active) {
    await loadHistory(active);
    markRead(active);
    renderMessages();
  }
}

function loginFailed(message: string, code: string): void {
  ui.loginError.textContent = message;
  ui.loginError.dataset.code = code;
}

async function login(name: string): Promise<void> {
  ui.loginError.textContent = '';
  delete ui.loginError.dataset.code;
  const fetchToken = async () => (await api<{ token: string }>('/api/login', { user_id: name })).token;
  // Asked here first, so the login API's own refusal (e.g. an invalid name) is what the user reads.
  let first: string | undefined;
  try {
    first = await fetchToken();
  } catch (e) {
    return loginFailed(`Cannot log in: ${(e as Error).message}`, e instanceof ApiError ? e.code : 'UNKNOWN');
  }
  const gatewayUrl = `${location.protocol}//${location.hostname}:${config.gateway_port}`;
  const c = new GatewayClient(gatewayUrl, {
    getToken: async () => {
      const token = first ?? (await fetchToken());
      first = undefined;
      return token;
    },
    onError: (e) => console.warn('background', e),
  });
  try {
    const { user_id } = await c.connect();
    me = user_id;
  } catch (e) {
    c.close();
    return loginFailed(`Cannot log in: ${describe(e)}`, isGatewayClientError(e) ? e.code : 'UNKNOWN');
  }
  client = c;
  wire(c);
  showState({ state: 'connected' });
  sessionStorage.setItem('chat-demo-user', me);
  ui.me.textContent = me;
  ui.login.hidden = true;
  ui.chat.hidden = false;
  document.title = `${me} · chat-gateway demo`;
  ui.chat.dataset.view = 'list';
  await refreshRooms().catch((e) => toast(`rooms: ${describe(e)}`));
  await refreshPresence().catch((e) => toast(`presence: ${describe(e)}`));
  setInterval(() => void refreshPresence().catch(() => undefined), ONLINE_REFRESH_MS);
  // A wide screen opens the demo room next to the list; a phone starts on the list.
  const room = conversations.get(`room:${config.demo_room}`);
  if (room && !NARROW.matches) await open(room);
  else renderAll();
}

function newId(): string {
  return typeof crypto.randomUUID === 'function' ? crypto.randomUUID() : `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}

async function start(): Promise<void> {
  config = await api<WebConfig>('/api/config');
  ui.demoUsers.replaceChildren(
    ...config.demo_users.map((u) => h('button', { type: 'button', 'data-user': u, onclick: () => void login(u) }, avatar(u, 'direct', false), u)),
  );
  ui.loginForm.addEventListener('submit', (e) => {
    e.preventDefault();
    const name = ui.loginName.value.trim();
    if (name) void login(name);
    else loginFailed('Type a name (letters, digits, . @ _ -), or pick a demo user above.', 'BLANK');
  });
  ui.composer.addEventListener('submit', (e) => {
    e.preventDefault();
    const text = ui.text.value.trim();
    if (!text) return;
    ui.text.value = '';
    void send(text);
  });
  ui.text.addEventListener('input', onInput);
  ui.back.addEventListener('click', () => {
    stopTyping();
    ui.chat.dataset.view = 'list';
    renderSidebar();
  });
  ui.logout.addEventListener('click', () => {
    client?.close();
    sessionStorage.removeItem('chat-demo-user');
    location.reload();
  });
  document.addEventListener('visibilitychange', () => active && markRead(active));
  const remembered = new URLSearchParams(location.search).get('user') ?? sessionStorage.getItem('chat-demo-user');
  if (remembered) await login(remembered);
}

void start();
