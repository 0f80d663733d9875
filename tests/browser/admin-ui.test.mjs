// The official Socket.IO Admin UI (@socket.io/admin-ui 0.5.1's page) in headless Chromium, driven
// by playwright-core, against the program (--admin-ui dev: the page served by the program itself)
// and, as the reference, against Node's socket.io with instrument() (tests/interop/lib/admin.mjs):
// the same steps on both. Log in; see the server, and the users' sockets (real socket.io-clients)
// with their rooms and transport; see a room a user joins; disconnect a user from the page and
// watch its client get "io server disconnect"; a wrong password is refused. The page may load
// nothing from elsewhere (its web fonts are blocked). Screenshots go to IGNIS_ARTIFACTS_DIR.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { ADMIN_PASSWORD, ADMIN_USER, TARGETS, USER_TOKEN } from '../interop/lib/admin.mjs';
import { authenticate, client, connected } from '../interop/lib/ignis-client.mjs';
import { requirePeer } from '../interop/lib/peers.mjs';
import { closeAllClients } from '../interop/lib/sio-client.mjs';
import { waitFor } from '../interop/lib/util.mjs';

const { chromium } = requirePeer('playwright-core');

const CHROMIUM = process.env.IGNIS_CHROMIUM || '/usr/bin/chromium';
const ARTIFACTS = process.env.IGNIS_ARTIFACTS_DIR || path.resolve('artifacts');
const WAIT = 10_000;

/** A user of "/" (polling, then WebSocket), authenticated, on WebSocket. */
async function user(server, rooms = []) {
  const socket = client(server, { token: USER_TOKEN, transports: ['polling', 'websocket'] });
  await connected(socket);
  await authenticate(socket);
  if (socket.io.engine.transport.name !== 'websocket') await waitFor(socket.io.engine, 'upgrade');
  if (rooms.length) await new Promise((resolve) => socket.emit('join', { rooms }, resolve));
  return socket;
}

/** A page of its own browser context on the server's /admin/, nothing loaded from elsewhere. */
async function openUi(browser, server) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const errors = [];
  const elsewhere = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith(server.url)) return route.continue();
    elsewhere.push(url);
    return route.abort();
  });
  await page.goto(`${server.url}/admin/`);
  return { context, page, errors, elsewhere };
}

async function logIn(page, server, password) {
  await page.getByLabel('Server URL').fill(server.url);
  await page.getByLabel('Username').fill(ADMIN_USER);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Connect' }).click();
}

async function shows(page, text) {
  await page.getByText(text, { exact: false }).first().waitFor({ timeout: WAIT });
}

describe('the official Admin UI in headless Chromium', () => {
  let browser;

  before(async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-dev-shm-usage'], headless: true });
    mkdirSync(ARTIFACTS, { recursive: true });
  });

  after(async () => {
    await browser?.close();
  });

  for (const target of TARGETS) {
    const tag = target.name === 'program' ? 'program' : 'node-reference';

    it(`logs in, lists the sockets and rooms, and disconnects a socket (${target.name})`, async () => {
      const server = await target.start({ mode: 'dev' });
      const ui = await openUi(browser, server);
      try {
        const alice = await user(server);
        const bob = await user(server, ['team-blue']);
        await logIn(ui.page, server, ADMIN_PASSWORD);
        await ui.page.getByLabel('Password').waitFor({ state: 'hidden', timeout: WAIT });

        // The server, with its id, once its statistics arrived.
        await ui.page.goto(`${server.url}/admin/#/servers/`);
        await shows(ui.page, server.serverId);
        await ui.page.screenshot({ path: path.join(ARTIFACTS, `admin-ui-${tag}-servers.png`), animations: 'disabled' });

        // Both users' sockets, on WebSocket.
        await ui.page.goto(`${server.url}/admin/#/sockets/`);
        for (const s of [alice, bob]) {
          const row = ui.page.locator('tr', { hasText: s.id });
          await row.waitFor({ timeout: WAIT });
          assert.match(await row.innerText(), /WebSocket/);
        }

        // A room a user joins while the page looks.
        await new Promise((resolve) => alice.emit('join', { rooms: ['lobby'] }, resolve));
        await ui.page.goto(`${server.url}/admin/#/rooms/`);
        await shows(ui.page, 'lobby');
        await shows(ui.page, 'team-blue');
        await ui.page.screenshot({ path: path.join(ARTIFACTS, `admin-ui-${tag}-rooms.png`), animations: 'disabled' });
        // The socket's own page lists its rooms.
        await ui.page.goto(`${server.url}/admin/#/n/%2F/sockets/${alice.id}`);
        await shows(ui.page, 'lobby');
        await ui.page.screenshot({ path: path.join(ARTIFACTS, `admin-ui-${tag}-socket.png`), animations: 'disabled' });

        // Disconnect Bob from the sockets page.
        await ui.page.goto(`${server.url}/admin/#/sockets/`);
        await ui.page.screenshot({ path: path.join(ARTIFACTS, `admin-ui-${tag}-sockets.png`), animations: 'disabled' });
        const gone = waitFor(bob, 'disconnect', { timeout: WAIT });
        await ui.page.locator('tr', { hasText: bob.id }).locator('button').click();
        assert.equal((await gone)[0], 'io server disconnect');
        assert.ok(alice.connected, 'only the chosen socket');
        assert.deepEqual(ui.errors, [], 'no script errors');
        assert.ok(ui.elsewhere.every((u) => /fonts\.googleapis\.com|cdn\.jsdelivr\.net/.test(u)),
          `only the page's web fonts are from elsewhere: ${ui.elsewhere.join(' ')}`);
      } finally {
        await ui.context.close();
        closeAllClients();
        await server.stop();
      }
    });

    it(`refuses a wrong password (${target.name})`, async () => {
      const server = await target.start({ mode: 'dev' });
      const ui = await openUi(browser, server);
      try {
        await logIn(ui.page, server, 'not the password');
        await shows(ui.page, 'Invalid credentials');
        assert.ok(await ui.page.getByLabel('Password').isVisible(), 'the login stays open');
        await ui.page.screenshot({ path: path.join(ARTIFACTS, `admin-ui-${tag}-refused.png`), animations: 'disabled' });
      } finally {
        await ui.context.close();
        await server.stop();
      }
    });
  }
});
