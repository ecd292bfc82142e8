(function () {
  var doc = document, table = doc.getElementById('users');
  if (!table) { return; }
  doc.documentElement.className += ' js';
  var body = table.tBodies[0], rows = Array.prototype.slice.call(body.rows);
  var q = doc.getElementById('q'), account = doc.getElementById('account'), show = doc.getElementById('show');
  var count = doc.getElementById('count'), heads = table.tHead.rows[0].cells, sorted = null, dir = 1, timer = 0;
  function params() {
    var out = {};
    location.hash.replace(/^#/, '').split('&').forEach(function (part) {
      var kv = part.split('=');
      if (kv[0]) { out[decodeURIComponent(kv[0])] = decodeURIComponent(kv[1] || ''); }
    });
    return out;
  }
  function remember() {
    var p = [];
    if (q.value) { p.push('q=' + encodeURIComponent(q.value)); }
    if (account.value) { p.push('account=' + encodeURIComponent(account.value)); }
    if (show.value) { p.push('show=' + encodeURIComponent(show.value)); }
    if (sorted !== null) { p.push('sort=' + heads[sorted].getAttribute('data-key') + '&dir=' + (dir > 0 ? 'asc' : 'desc')); }
    if (history.replaceState) { history.replaceState(null, '', p.length ? '#' + p.join('&') : location.pathname); }
  }
  function filter() {
    var text = q.value.trim().toLowerCase(), acc = account.value, flag = show.value, shown = 0;
    for (var i = 0; i < rows.length; i++) {
      var r = rows[i];
      var ok = (!acc || r.getAttribute('data-account') === acc) && (!flag || r.getAttribute('data-' + flag) === '1') &&
        (!text || r.getAttribute('data-search').indexOf(text) >= 0);
      r.hidden = !ok;
      if (ok) { shown++; }
    }
    count.textContent = 'showing ' + shown + ' of ' + rows.length + ' users';
  }
  function value(row, col) {
    var cell = row.cells[col], v = cell.getAttribute('data-v');
    return v === null ? cell.textContent.trim().toLowerCase() : v;
  }
  function sortBy(col, direction) {
    var numeric = heads[col].getAttribute('data-sort') === 'n';
    sorted = col; dir = direction;
    var keyed = rows.map(function (row, i) {
      var v = value(row, col);
      return [numeric ? (v === '' ? -Infinity : parseFloat(v)) : v, i, row];
    });
    keyed.sort(function (a, b) {
      if (a[0] < b[0]) { return -dir; }
      if (a[0] > b[0]) { return dir; }
      return a[1] - b[1];
    });
    var frag = doc.createDocumentFragment();
    rows = keyed.map(function (k) { frag.appendChild(k[2]); return k[2]; });
    body.appendChild(frag);
    for (var i = 0; i < heads.length; i++) {
      if (i === col) { heads[i].setAttribute('aria-sort', dir > 0 ? 'ascending' : 'descending'); }
      else { heads[i].removeAttribute('aria-sort'); }
    }
  }
  Array.prototype.forEach.call(heads, function (th, col) {
    if (!th.hasAttribute('data-sort')) { return; }
    th.tabIndex = 0;
    function activate() { sortBy(col, sorted === col ? -dir : (th.getAttribute('data-sort') === 'n' ? -1 : 1)); remember(); }
    th.addEventListener('click', activate);
    th.addEventListener('keydown', function (e) { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); activate(); } });
  });
  q.addEventListener('input', function () { clearTimeout(timer); timer = setTimeout(function () { filter(); remember(); }, 120); });
  account.addEventListener('change', function () { filter(); remember(); });
  show.addEventListener('change', function () { filter(); remember(); });
  var start = params();
  if (start.q) { q.value = start.q; }
  if (start.account) { account.value = start.account; }
  if (start.show) { show.value = start.show; }
  if (start.sort) {
    for (var i = 0; i < heads.length; i++) {
      if (heads[i].getAttribute('data-key') === start.sort) { sortBy(i, start.dir === 'desc' ? -1 : 1); }
    }
  }
  filter();
})();
