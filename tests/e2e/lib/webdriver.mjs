// A small W3C WebDriver client: just the endpoints Loft's end-to-end tests use.

const ELEMENT = 'element-6066-11e4-a52e-4f735466cecf';

export class WebDriverError extends Error {
  constructor(status, body) {
    const value = body?.value ?? {};
    super(`WebDriver ${status}: ${value.error ?? 'error'}: ${value.message ?? JSON.stringify(body)}`);
    this.code = value.error;
  }
}

/**
 * How long one request may take: longer than any wait the driver itself is given (scripts get
 * 30 s by default, 60 s in the benchmark) and shorter than a test's limit, so a driver or an
 * app that stops answering fails the request, which names itself, before the test's limit.
 */
const REQUEST_LIMIT_MS = 90_000;

async function request(base, method, path, body) {
  let response;
  let text;
  try {
    response = await fetch(`${base}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(REQUEST_LIMIT_MS),
    });
    text = await response.text();
  } catch (error) {
    if (error.name !== 'TimeoutError') throw error;
    throw new Error(`WebDriver ${method} ${path} got no answer within ${REQUEST_LIMIT_MS / 1000} s`);
  }
  const json = text ? JSON.parse(text) : {};
  if (!response.ok) throw new WebDriverError(response.status, json);
  return json.value;
}

export class Session {
  constructor(base, id) {
    this.base = base;
    this.id = id;
  }

  static async create(base, capabilities) {
    const value = await request(base, 'POST', '/session', { capabilities: { alwaysMatch: capabilities } });
    return new Session(base, value.sessionId);
  }

  #call(method, path, body) {
    return request(this.base, method, `/session/${this.id}${path}`, body);
  }

  title() {
    return this.#call('GET', '/title');
  }

  async find(css) {
    const found = await this.#call('POST', '/element', { using: 'css selector', value: css });
    return new Element(this, found[ELEMENT]);
  }

  async findAll(css) {
    const found = await this.#call('POST', '/elements', { using: 'css selector', value: css });
    return found.map((f) => new Element(this, f[ELEMENT]));
  }

  byTestId(id) {
    return this.find(`[data-testid="${id}"]`);
  }

  /** Polls `probe` until it returns a truthy value; fails with `what` after `timeoutMs`. */
  async waitFor(what, probe, timeoutMs = 15000, intervalMs = 150) {
    const deadline = Date.now() + timeoutMs;
    let lastError;
    while (Date.now() < deadline) {
      try {
        const value = await probe();
        if (value) return value;
      } catch (error) {
        lastError = error;
      }
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
    throw new Error(`timed out waiting for ${what}${lastError ? `: ${lastError.message}` : ''}`);
  }

  /** Double-clicks the middle of `element` with a real pointer sequence. */
  async doubleClick(element) {
    const origin = { [ELEMENT]: element.id };
    const click = [
      { type: 'pointerDown', button: 0 },
      { type: 'pointerUp', button: 0 },
    ];
    await this.#call('POST', '/actions', {
      actions: [
        {
          type: 'pointer',
          id: 'mouse',
          parameters: { pointerType: 'mouse' },
          actions: [{ type: 'pointerMove', origin, x: 0, y: 0 }, ...click, ...click],
        },
      ],
    });
    await this.#call('DELETE', '/actions');
  }

  /** Right-clicks the middle of `element`, opening its context menu. */
  async contextClick(element) {
    await this.#call('POST', '/actions', {
      actions: [
        {
          type: 'pointer',
          id: 'mouse',
          parameters: { pointerType: 'mouse' },
          actions: [
            { type: 'pointerMove', origin: { [ELEMENT]: element.id }, x: 0, y: 0 },
            { type: 'pointerDown', button: 2 },
            { type: 'pointerUp', button: 2 },
          ],
        },
      ],
    });
    await this.#call('DELETE', '/actions');
  }

  /** Presses keys on whatever has the focus (e.g. a space for play/pause). */
  async pressKeys(text) {
    const actions = [];
    for (const key of text) actions.push({ type: 'keyDown', value: key }, { type: 'keyUp', value: key });
    await this.#call('POST', '/actions', { actions: [{ type: 'key', id: 'keyboard', actions }] });
    await this.#call('DELETE', '/actions');
  }

  /** The handles of the app's windows (each webview WebKitWebDriver drives). */
  windowHandles() {
    return this.#call('GET', '/window/handles');
  }

  windowHandle() {
    return this.#call('GET', '/window');
  }

  /** Sends the following commands to the window with `handle`. */
  switchToWindow(handle) {
    return this.#call('POST', '/window', { handle });
  }

  execute(script, args = []) {
    return this.#call('POST', '/execute/sync', { script, args });
  }

  executeAsync(script, args = []) {
    return this.#call('POST', '/execute/async', { script, args });
  }

  /** A PNG of the window's web content, as a Buffer. */
  async screenshot() {
    return Buffer.from(await this.#call('GET', '/screenshot'), 'base64');
  }

  async close() {
    await this.#call('DELETE', '');
  }

  call(method, path, body) {
    return this.#call(method, path, body);
  }
}

export class Element {
  constructor(session, id) {
    this.session = session;
    this.id = id;
  }

  #call(method, path, body) {
    return this.session.call(method, `/element/${this.id}${path}`, body);
  }

  text() {
    return this.#call('GET', '/text');
  }

  displayed() {
    return this.#call('GET', '/displayed');
  }

  click() {
    return this.#call('POST', '/click', {});
  }

  attribute(name) {
    return this.#call('GET', `/attribute/${encodeURIComponent(name)}`);
  }

  property(name) {
    return this.#call('GET', `/property/${encodeURIComponent(name)}`);
  }

  sendKeys(text) {
    return this.#call('POST', '/value', { text });
  }

  clear() {
    return this.#call('POST', '/clear', {});
  }
}
