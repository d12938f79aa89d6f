// The sample portal: passes its own ?request= (and ?lang=, ?theme=) to the
// <gb-consent> element and logs the widget's events.
const q = new URLSearchParams(location.search);
const el = document.getElementById('consent');
const log = document.getElementById('event-log');

for (const name of ['ready', 'step', 'authorized', 'declined', 'error']) {
  el.addEventListener(`gb-consent:${name}`, (e) => {
    const li = document.createElement('li');
    li.textContent = `${e.type} ${JSON.stringify(e.detail)}`;
    log.append(li);
    console.info(e.type, e.detail);
  });
}
if (q.get('lang')) el.setAttribute('locale', q.get('lang'));
if (q.get('theme')) el.setAttribute('theme', q.get('theme'));
el.setAttribute('request-id', q.get('request') || '');
