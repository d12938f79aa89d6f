// Starts the hosted consent page (/consent/?request=…). An external module
// so the page runs under `script-src 'self' 'wasm-unsafe-eval'`.
import init, { mount } from './consent-widget.js';

const el = document.getElementById('gb-consent');
const q = new URLSearchParams(location.search);
const d = el.dataset;

// The request's context, when the server embedded it (a JSON data block):
// one round trip fewer before the first field.
function embeddedContext() {
  const block = document.getElementById('gb-consent-context');
  try {
    return block ? JSON.parse(block.textContent) : undefined;
  } catch {
    return undefined;
  }
}

try {
  await init();
  // Keep the handle (unmount() is the only way to remove the widget).
  window.gbConsent = mount(el, {
    requestId: q.get('request') || '',
    apiBase: d.apiBase || location.origin,
    locale: q.get('locale') || q.get('lang') || d.locale || undefined,
    theme: d.theme || 'auto',
    messagesUrl: d.messagesUrl || undefined,
    parentOrigin: q.get('parent_origin') || undefined,
    hosted: true,
    context: embeddedContext(),
    // /consent/sharing: "Your data sharing" (the server marks the page).
    sharing: d.mode === 'sharing',
  });
} catch (e) {
  // Never a blank page: say what happened in the page's own words.
  const p = el.querySelector('[data-boot-status]');
  if (p) {
    p.textContent = 'Sorry, this page could not start. Reload the page to try again.';
    p.setAttribute('role', 'alert');
  }
  console.error(e);
}
