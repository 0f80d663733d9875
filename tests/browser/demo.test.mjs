// The demo page in a real browser: headless Chromium (Debian's) driven by playwright-core opens
// the page served by ignis-socketio in two pages; both connect with a token, authenticate, join
// a room and exchange messages through the program, once with the default polling -> WebSocket
// upgrade and once WebSocket-only. Screenshots go to IGNIS_ARTIFACTS_DIR.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { spawnProgram } from '../interop/lib/server.mjs';
import { requirePeer } from '../interop/lib/peers.mjs';

const { chromium } = requirePeer('playwright-core');

const PROGRAM = process.env.IGNIS_PROGRAM;
const CHROMIUM = process.env.IGNIS_CHROMIUM || '/usr/bin/chromium';
const ARTIFACTS = process.env.IGNIS_ARTIFACTS_DIR || path.resolve('artifacts');
const TOKEN = 'demo-token';
const WAIT = 10_000;

async function metric(server, name) {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.split(' ')[1]) : undefined;
}

/** A page of its own browser context, connected, authenticated and in `room`. */
async function openDemo(browser, server, { wsOnly }) {
  const context = await browser.newContext({ viewport: { width: 900, height: 760 } });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${server.url}/`);
  await page.fill('#token', TOKEN);
  if (wsOnly) await page.check('#ws-only');
  await page.click('#connect');
  await page.waitForSelector('body[data-state="authenticated"]', { timeout: WAIT });
  await page.fill('#room', 'lobby');
  await page.click('#join');
  await page.waitForSelector('body[data-rooms="lobby"]', { timeout: WAIT });
  // Default: starts on polling and upgrades; WebSocket-only: WebSocket from the start.
  await page.waitForSelector('body[data-transport="websocket"]', { timeout: WAIT });
  return { page, context, errors };
}

async function say(page, text) {
  await page.fill('#message', text);
  await page.click('#send');
}

async function sees(page, text) {
  await page.waitForFunction((t) => document.getElementById('log').textContent.includes(t), text, { timeout: WAIT });
}

describe('demo page in headless Chromium', { skip: !PROGRAM && 'needs IGNIS_PROGRAM' }, () => {
  let server;
  let browser;

  before(async () => {
    server = await spawnProgram(['--auth', 'tokens', '--tokens', TOKEN, '--rooms-allow', '*', '--demo-chat']);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-dev-shm-usage'], headless: true });
    mkdirSync(ARTIFACTS, { recursive: true });
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  for (const wsOnly of [false, true]) {
    const mode = wsOnly ? 'websocket-only' : 'polling-upgrade';
    it(`two pages authenticate, join a room and chat (${mode})`, async () => {
      const upgradesBefore = await metric(server, 'ignis_upgrades_total');
      const a = await openDemo(browser, server, { wsOnly });
      const b = await openDemo(browser, server, { wsOnly });
      try {
        const upgrades = (await metric(server, 'ignis_upgrades_total')) - upgradesBefore;
        assert.equal(upgrades, wsOnly ? 0 : 2, 'each page upgraded from polling exactly when expected');
        await say(a.page, `hello from A (${mode})`);
        await sees(b.page, `hello from A (${mode})`);
        await sees(a.page, `me: hello from A (${mode})`);
        await say(b.page, `hi A, B here (${mode})`);
        await sees(a.page, `hi A, B here (${mode})`);
        assert.equal(await a.page.textContent('#transport'), 'websocket');
        assert.equal(await b.page.textContent('#state'), 'authenticated');
        await a.page.screenshot({ path: path.join(ARTIFACTS, `demo-${mode}.png`) });
        assert.deepEqual([...a.errors, ...b.errors], [], 'no script errors');
      } finally {
        await a.context.close();
        await b.context.close();
      }
    });
  }

  it('a wrong token is refused on the page', async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(`${server.url}/`);
      await page.fill('#token', 'wrong');
      await page.click('#connect');
      await sees(page, 'Invalid token to authenticate!');
      await page.waitForSelector('body[data-state="disconnected"]', { timeout: WAIT });
    } finally {
      await context.close();
    }
  });
});
