/*! Junction web tag 1.0.0: Segment-spec page, track and identify to this hub's Tracking API. */
(function (w, d) {
  'use strict';
  // The hub writes the connection's config.tag here when it serves the file.
  var cfg = /*CONFIG*/{}/*END*/;
  var script = d.currentScript;
  var ready = w.junction;
  if (!script || (ready && ready.loaded)) return;
  var base = script.src.replace(/\/tag\.js(\?.*)?$/, '');
  var writeKey = script.getAttribute('data-write-key') || '';
  var LIB = { name: 'junction-tag', version: '1.0.0' };
  var CAP = 100;                  // queued messages kept; the oldest go first
  var MIN_DELAY = 1000, MAX_DELAY = 30000;
  var QKEY = 'junction:queue:' + base;
  var CKEY = 'junction:consent';
  var ls = storage();
  var held = [];                  // before consent: in memory only, never stored
  var sending = false, attempt = 0, timer = null;

  function storage() {
    try {
      var s = w.localStorage, k = 'junction:probe';
      s.setItem(k, '1'); s.removeItem(k);
      return s;
    } catch (e) { return null; }
  }
  function get(k) { try { return ls ? ls.getItem(k) : null; } catch (e) { return null; } }
  function set(k, v) { try { if (ls) ls.setItem(k, v); } catch (e) { /* full or blocked: keep going */ } }
  function del(k) { try { if (ls) ls.removeItem(k); } catch (e) { /* blocked */ } }

  function doNotTrack() {
    var n = w.navigator || {};
    return n.doNotTrack === '1' || n.doNotTrack === 'yes' || w.doNotTrack === '1' || n.globalPrivacyControl === true;
  }
  function consented() { return !cfg.requireConsent || get(CKEY) === 'granted'; }
  function silenced() { return cfg.respectDNT && doNotTrack(); }

  function uuid() {
    if (w.crypto && w.crypto.randomUUID) return w.crypto.randomUUID();
    var b = new Uint8Array(16), h = '';
    (w.crypto || w.msCrypto).getRandomValues(b);
    b[6] = (b[6] & 15) | 64; b[8] = (b[8] & 63) | 128;
    for (var i = 0; i < 16; i++) h += (b[i] + 256).toString(16).slice(1) + ([3, 5, 7, 9].indexOf(i) >= 0 ? '-' : '');
    return h;
  }
  // Stored only once the visitor may be tracked: before consent the id
  // lives in memory, so nothing is written to the device.
  var memoryId = null;
  function anonymousId() {
    var id = get('junction:anonymousId') || memoryId || uuid();
    memoryId = id;
    if (consented() && !silenced()) set('junction:anonymousId', id);
    return id;
  }

  function load() {
    try { var q = JSON.parse(get(QKEY) || '[]'); return Array.isArray(q) ? q : []; } catch (e) { return []; }
  }
  function save(q) {
    if (q.length > CAP) q = q.slice(q.length - CAP);
    if (q.length) set(QKEY, JSON.stringify(q)); else del(QKEY);
  }
  function remove(id) { save(load().filter(function (m) { return m.messageId !== id; })); }

  function message(type, fields) {
    var loc = w.location, m = {
      type: type, messageId: 'jct-' + uuid(), anonymousId: anonymousId(),
      timestamp: new Date().toISOString(),
      context: {
        library: LIB, userAgent: (w.navigator || {}).userAgent, locale: (w.navigator || {}).language,
        page: { path: loc.pathname, referrer: d.referrer, search: loc.search, title: d.title, url: loc.href }
      }
    };
    var uid = get('junction:userId');
    if (uid) m.userId = uid;
    for (var k in fields) if (fields[k] !== undefined) m[k] = fields[k];
    return m;
  }

  // call builds and queues a message, unless the visitor is not tracked:
  // then nothing is built, so nothing (not even an id) is stored.
  function call(type, fields) {
    if (silenced()) return;
    var m = message(type, fields);
    if (!consented()) { held.push(m); if (held.length > CAP) held.shift(); return; }
    enqueue(m);
  }
  function enqueue(m) {
    var q = load(); q.push(m); save(q);
    flush();
  }

  var PATH = { page: 'p', track: 't', identify: 'i' };
  // send posts one message as text/plain, as analytics.js does, so no
  // preflight is needed; done(ok, retry) says what became of it.
  function send(m, done) {
    var url = base + '/v1/' + PATH[m.type];
    var body = JSON.stringify(Object.assign({}, m, { writeKey: writeKey, sentAt: new Date().toISOString() }));
    if (w.fetch) {
      try {
        w.fetch(url, { method: 'POST', body: body, keepalive: true, credentials: 'omit', headers: { 'Content-Type': 'text/plain' } })
          .then(function (r) {
            // 2xx stored; 408, 429 and 5xx may pass later; any other 4xx never will.
            done(r.ok, !r.ok && (r.status === 408 || r.status === 429 || r.status >= 500));
          }, function () { done(false, true); });
        return;
      } catch (e) { /* keepalive refused (a body over its quota): beacon below */ }
    }
    var n = w.navigator;
    if (n && n.sendBeacon && n.sendBeacon(url, body)) { done(true, false); return; }
    done(false, true);
  }

  function flush() {
    if (sending || timer) return;
    var q = load();
    if (!q.length) return;
    sending = true;
    var m = q[0];
    send(m, function (ok, retry) {
      sending = false;
      if (ok || !retry) {
        attempt = 0;
        remove(m.messageId);
        flush();
        return;
      }
      var delay = Math.min(MAX_DELAY, MIN_DELAY * Math.pow(2, attempt++));
      timer = setTimeout(function () { timer = null; flush(); }, delay * (0.5 + Math.random() / 2));
    });
  }

  var api = {
    loaded: true,
    page: function (name, properties) {
      call('page', { name: name, properties: Object.assign({
        path: w.location.pathname, referrer: d.referrer, search: w.location.search, title: d.title, url: w.location.href
      }, properties || {}) });
    },
    track: function (event, properties) {
      if (typeof event !== 'string' || !event) return;
      call('track', { event: event, properties: properties || {} });
    },
    identify: function (userId, traits) {
      if (typeof userId === 'object' && userId !== null) { traits = userId; userId = undefined; }
      if (userId && consented() && !silenced()) set('junction:userId', String(userId));
      call('identify', { userId: userId ? String(userId) : undefined, traits: traits || {} });
    },
    // consent(true) sends what was held since the page loaded and lets the
    // tag store its queue and ids; consent(false) forgets all of it.
    consent: function (granted) {
      if (granted) {
        set(CKEY, 'granted');
        var h = held; held = [];
        for (var i = 0; i < h.length; i++) { h[i].anonymousId = anonymousId(); enqueue(h[i]); }
      } else {
        held = [];
        set(CKEY, 'denied');
        del(QKEY); del('junction:anonymousId'); del('junction:userId');
      }
    },
    reset: function () { del('junction:anonymousId'); del('junction:userId'); memoryId = null; },
    push: function (call) { if (call && typeof api[call[0]] === 'function' && call[0] !== 'push') api[call[0]].apply(api, call.slice(1)); }
  };

  w.junction = api;
  // Calls made before the tag loaded (window.junction = [['track', ...]]).
  if (Array.isArray(ready)) for (var i = 0; i < ready.length; i++) api.push(ready[i]);
  api.page();
  // Back online: retry now rather than when the backoff ends.
  w.addEventListener('online', function () { if (timer) { clearTimeout(timer); timer = null; } attempt = 0; flush(); });
  w.addEventListener('pageshow', flush);
})(window, document);
