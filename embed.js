// <gb-consent> custom element: embeds the consent widget in a host page.
//
//   <script type="module" src="https://auth.example.com/consent/embed.js"></script>
//   <gb-consent request-id="…" api-base="https://auth.example.com"
//               locale="es" theme="auto|light|dark"
//               messages='{"consent.authorize":"Allow"}' messages-url="…"
//               redirect-delay="15"></gb-consent>
//
// Events (CustomEvent on the element, bubbling, detail.version = 1):
// gb-consent:ready, :step, :authorized, :declined, :error. See the README.
// No event carries the redirect URL (it holds the authorization code): the
// widget follows it itself. A portal that cancels `authorized` or
// `declined` (preventDefault) later calls `element.proceed()`.
const base = new URL('.', import.meta.url);
let ready;

function load() {
  if (!ready) {
    // The stylesheet (a <link>, never inline: works under style-src 'self').
    const href = new URL('consent-widget.css', base).href;
    if (![...document.querySelectorAll('link[rel=stylesheet]')].some((l) => l.href === href)) {
      const link = document.createElement('link');
      link.rel = 'stylesheet';
      link.href = href;
      document.head.append(link);
    }
    ready = import(new URL('consent-widget.js', base).href).then(async (m) => {
      await m.default({ module_or_path: new URL('consent-widget_bg.wasm', base) });
      return m;
    });
  }
  return ready;
}

const ATTRS = ['request-id', 'api-base', 'locale', 'theme', 'messages', 'messages-url', 'redirect-delay'];

class GbConsent extends HTMLElement {
  static get observedAttributes() {
    return ATTRS;
  }

  connectedCallback() {
    // Reserve the height at once (CSS class, no inline style).
    this.classList.add('gbc-host');
    this.#mount();
  }

  disconnectedCallback() {
    this.#unmount();
  }

  attributeChangedCallback() {
    if (this.isConnected && this.handle) {
      this.#unmount();
      this.#mount();
    }
  }

  /** Follows the decision's redirect after a cancelled `authorized` or
   *  `declined`; false when there is no decision yet. */
  proceed() {
    return this.handle ? this.handle.proceed() : false;
  }

  #unmount() {
    if (this.handle) {
      this.handle.unmount();
      this.handle.free();
      this.handle = undefined;
    }
  }

  async #mount() {
    const token = (this.token = {});
    let m;
    try {
      m = await load();
    } catch (e) {
      this.textContent = 'Sorry, this could not load. Reload the page to try again.';
      this.dispatchEvent(new CustomEvent('gb-consent:error', {
        bubbles: true,
        composed: true,
        detail: { version: 1, request_id: this.getAttribute('request-id') || '', code: 'load_failed', fatal: true, step: 'loading' },
      }));
      return;
    }
    if (token !== this.token || !this.isConnected) return;
    this.#unmount();
    const delay = this.getAttribute('redirect-delay');
    this.handle = m.mount(this, {
      requestId: this.getAttribute('request-id') || '',
      apiBase: this.getAttribute('api-base') || base.origin,
      locale: this.getAttribute('locale') || undefined,
      theme: this.getAttribute('theme') || 'auto',
      messages: this.getAttribute('messages') || undefined,
      messagesUrl: this.getAttribute('messages-url') || undefined,
      redirectDelay: delay === null ? undefined : Number(delay),
      hosted: false,
    });
  }
}

if (!customElements.get('gb-consent')) customElements.define('gb-consent', GbConsent);
