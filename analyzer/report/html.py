"""The audit (or a plain connectivity list) as ONE self-contained HTML page.

No network access: CSS and JavaScript are inline, the data is embedded as JSON, and the page
works from ``file://``. The page holds a namespace-grouped graph (workloads when there are few
enough, otherwise namespaces with drill-down), a filterable connection matrix whose rows show the
ports and the responsible rules, and, for an audit, the coverage, exposure, blast-radius,
crown-jewel and lint tables.

Strings are interned in the embedded data (each id, port text and rule text once), so the page
for a ~10k-pod cluster stays a few megabytes.
"""

from __future__ import annotations

import html
import json
from typing import Any

from .. import __version__
from ..engine.graph import ConnectivityView
from .audit import OUTSIDE, Audit
from .document import share

WORKLOAD_GRAPH_LIMIT = 250  # more workloads than this: the graph starts at namespace level


class _Interned:
    def __init__(self) -> None:
        self.items: list[str] = []
        self.index: dict[str, int] = {}

    def __call__(self, text: str) -> int:
        i = self.index.get(text)
        if i is None:
            i = self.index[text] = len(self.items)
            self.items.append(text)
        return i


def graph_data(view: ConnectivityView, exposed: set[str] = frozenset(),
               jewels: set[str] = frozenset()) -> dict[str, Any]:
    """The embedded data: interned strings, workloads by namespace, and every connection."""
    ids, texts = _Interned(), _Interned()
    namespaces: dict[str, int] = {}
    nodes = []
    for node, data in sorted(view.nodes.items()):
        if data.get("type") in ("workload", "pod"):
            ns = namespaces.setdefault(data["namespace"], len(namespaces))
            nodes.append([ids(node), ns, int(node in exposed), int(node in jewels)])
    edges = []
    for (src, dst), allowance in sorted(view.edges.items()):
        rules = "; ".join(sorted({str(r) for r in allowance.egress | allowance.ingress}))
        edges.append([ids(src), ids(dst), texts(allowance.conns.to_text()), texts(rules),
                      int(view.nodes[src].get("type") not in ("workload", "pod"))])
    return {"ids": ids.items, "texts": texts.items, "namespaces": list(namespaces),
            "nodes": nodes, "edges": edges, "outside": OUTSIDE,
            "workloadGraphLimit": WORKLOAD_GRAPH_LIMIT}


def render_view(view: ConnectivityView, title: str = "kreach connectivity") -> str:
    """``kreach list --format html``: the graph and the matrix."""
    return _page(title, graph_data(view), sections="", top="")


def render_audit(report: Audit, view: ConnectivityView) -> str:
    exposed = {e.workload for e in report.exposure}
    jewels = {j.jewel for j in report.jewels}
    top, rest = _audit_sections(report)
    return _page("kreach audit", graph_data(view, exposed, jewels), sections=rest, top=top)


# --- the audit's tables (rendered here; the graph and matrix are drawn by the page) ----------


def _e(text: object) -> str:
    return html.escape(str(text))


def _pct(part: int, whole: int) -> str:
    s = share(part, whole)
    return "-" if s is None else f"{s:.0%}"


def _table(head: list[str], rows: list[list[str]], cls: str = "") -> str:
    th = "".join(f"<th>{_e(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows)
    return (f'<div class="scroll"><table class="{cls}"><thead><tr>{th}</tr></thead>'
            f'<tbody>{body}</tbody></table></div>')


def _audit_sections(report: Audit) -> tuple[str, str]:
    """(what goes above the graph: summary and coverage; what goes below it)."""
    inv, cov = report.inventory, report.coverage
    policies = ", ".join(f"{n} {k}" for k, n in inv.policies) or "no policies"
    cards = "".join(f'<div class="card"><b>{_e(v)}</b><span>{_e(k)}</span></div>' for k, v in (
        ("namespaces", inv.namespaces), ("workloads", inv.workloads), ("pods", inv.pods),
        ("isolated for ingress", _pct(cov.ingress_isolated, cov.workloads)),
        ("isolated for egress", _pct(cov.egress_isolated, cov.workloads)),
        ("exposed from outside", len({e.workload for e in report.exposure}))))
    out = [f'<section id="summary"><h2>Summary</h2><div class="cards">{cards}</div>'
           f"<p>Policies: {_e(policies)}.</p></section>"]
    out.append('<section id="coverage"><h2>Isolation coverage</h2>' + _table(
        ["namespace", "workloads", "ingress isolated", "egress isolated"],
        [[_e(n.namespace), str(n.workloads),
          f'<span class="{_level(n.ingress_isolated, n.workloads)}">{n.ingress_isolated} ({_pct(n.ingress_isolated, n.workloads)})</span>',
          f'<span class="{_level(n.egress_isolated, n.workloads)}">{n.egress_isolated} ({_pct(n.egress_isolated, n.workloads)})</span>']
         for n in cov.namespaces]) + "</section>")
    top, out = "\n".join(out), []
    rows = [[_e(e.workload), f'<span class="{"bad" if e.source in ("internet", "edge") else "warn"}">{_e(e.source)}</span>',
             _e(", ".join(e.ranges)), _e(e.conns.to_text()), "<br>".join(_e(r) for r in e.rules)]
            for e in report.exposure]
    out.append('<section id="exposure"><h2>Exposure from outside (edge first)</h2>'
               + (_table(["workload", "source", "from", "ports", "allowed by"], rows, "exposure")
                  if rows else "<p>No workload is reachable from outside the cluster.</p>") + "</section>")
    rows = [[_e(e.workload), _e(e.source), _e(", ".join(e.ranges)), _e(e.conns.to_text()),
             "<br>".join(_e(r) for r in e.rules)] for e in report.egress]
    out.append('<section id="egress"><h2>Egress to outside the cluster</h2>'
               + (_table(["workload", "to", "ranges", "ports", "allowed by"], rows, "egress")
                  if rows else "<p>No workload may send to addresses outside the cluster.</p>") + "</section>")
    rows = [[_e(b.workload), str(len(b.reachable)),
             "<br>".join(f"{k + 1}: " + _e(", ".join(level)) for k, level in enumerate(b.by_hop))]
            for b in report.blast_radius]
    out.append(f'<section id="blast"><h2>Blast radius (up to {report.hops} hops)</h2>'
               + (_table(["exposed workload", "reaches", "by hop"], rows, "blast") if rows
                  else "<p>No exposed workload.</p>") + "</section>")
    if report.crown_jewel_patterns:
        items = []
        for j in report.jewels:
            if j.reachable:
                path = " &rarr; ".join(["outside"] + [f"{_e(h.dst)} <small>({_e(h.conns.to_text())})</small>" for h in j.hops])
                items.append(f'<li class="bad"><b>{_e(j.jewel)}</b>: {path}</li>')
            else:
                items.append(f'<li class="good"><b>{_e(j.jewel)}</b>: no path from outside</li>')
        out.append(f'<section id="jewels"><h2>Crown jewels ({_e(", ".join(report.crown_jewel_patterns))})</h2>'
                   f'<ul class="paths">{"".join(items) or "<li>no workload matches</li>"}</ul></section>')
    if report.lint:
        rows = [[_e(f.code), f'<span class="{_sev(f.severity.value)}">{_e(f.severity.value)}</span>',
                 _e(f.source or ""), _e(f.message)] for f in report.lint]
        out.append('<section id="lint"><h2>Lint findings</h2>'
                   + _table(["code", "severity", "where", "message"], rows, "lint") + "</section>")
    if report.assertions is not None:
        a = report.assertions
        rows = [[_e(r.assertion.name), f'<span class="{"good" if r.passed else "bad"}">{_e(r.status.value)}</span>',
                 _e(r.expected), _e(r.found)] for r in a.results]
        out.append(f'<section id="assertions"><h2>Assertions ({_e(a.file)})</h2>'
                   + _table(["assertion", "status", "expected", "found"], rows) + "</section>")
    for note in report.notes:
        out.append(f'<p class="note">{_e(note)}</p>')
    return top, "\n".join(out)


def _level(part: int, whole: int) -> str:
    return "good" if whole and part == whole else "bad" if part == 0 else "warn"


def _sev(severity: str) -> str:
    return {"error": "bad", "warning": "warn"}.get(severity, "")


# --- the page --------------------------------------------------------------------------------


def _page(title: str, data: dict[str, Any], sections: str, top: str) -> str:
    payload = json.dumps(data, separators=(",", ":")).replace("</", "<\\/")
    return (_TEMPLATE.replace("@TITLE@", _e(title)).replace("@VERSION@", _e(__version__))
            .replace("@TOP@", top).replace("@SECTIONS@", sections).replace("@DATA@", payload))


_TEMPLATE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>@TITLE@</title>
<style>
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#1d2330;background:#f6f7f9}
header{background:#1d2330;color:#fff;padding:14px 24px}header h1{margin:0;font-size:20px}
header small{color:#aab}
main{padding:12px 24px;max-width:1400px}
section{background:#fff;border:1px solid #dde;border-radius:6px;padding:10px 16px;margin:12px 0}
h2{font-size:16px;margin:4px 0 10px}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{text-align:left;padding:4px 8px;border-bottom:1px solid #eef;vertical-align:top}
th{background:#f0f2f6;position:sticky;top:0}
.scroll{max-height:380px;overflow:auto}
.cards{display:flex;flex-wrap:wrap;gap:10px}.card{border:1px solid #dde;border-radius:6px;padding:8px 14px;min-width:120px}
.card b{display:block;font-size:22px}.card span{color:#667}
.good{color:#167a2f}.bad{color:#b3261e;font-weight:600}.warn{color:#9a6700}
#graph svg{width:100%;height:620px;border:1px solid #eef;border-radius:4px;background:#fcfcfd}
#graph .ns{fill:#eef2fb;stroke:#b7c3e0}#graph .nslabel{font-size:12px;fill:#445;font-weight:600}
#graph .wl{fill:#5b7bd5;stroke:#fff;stroke-width:1.5;cursor:pointer}#graph .wl.exposed{fill:#d2453b}
#graph .wl.jewel{stroke:#e0a800;stroke-width:4}#graph .outside{fill:#1d2330}
#graph .edge{stroke:#8a94a8;stroke-opacity:.45;fill:none}#graph .edge.out{stroke:#d2453b;stroke-opacity:.7}
#graph .wlabel{font-size:10px;fill:#333}#graph .nsnode{fill:#5b7bd5;cursor:pointer}#graph .nsnode.exposed{fill:#d2453b}
.controls{display:flex;gap:8px;align-items:center;margin-bottom:8px;flex-wrap:wrap}
input[type=search],select{padding:4px 6px;border:1px solid #bbc;border-radius:4px;font:inherit}
button{padding:4px 10px;border:1px solid #bbc;border-radius:4px;background:#fff;cursor:pointer}
#matrix-count{color:#667}.paths li{margin:4px 0}.note{color:#667}
footer{color:#889;padding:8px 24px 24px;font-size:12px}
</style></head>
<body>
<header><h1>@TITLE@</h1><small>kreach @VERSION@ &middot; static analysis of the manifests given; a workload is
exposed when a policy (or the absence of one) admits connections from outside the cluster</small></header>
<main>
@TOP@
<section id="graph"><h2>Graph</h2>
<div class="controls"><span id="graph-mode"></span><button id="graph-back" hidden>&larr; all namespaces</button></div>
<svg id="graph-svg" xmlns="http://www.w3.org/2000/svg" role="img" aria-label="connectivity graph"></svg>
<p><small>Blue: workloads; red: reachable from outside; gold ring: crown jewels; a black node stands for
everything outside the cluster. Click a namespace to drill down, a workload to filter the matrix.</small></p>
</section>
<section id="matrix"><h2>Connections</h2>
<div class="controls"><input type="search" id="matrix-filter" placeholder="filter: workload, port, rule&hellip;" size="40">
<select id="matrix-ns"><option value="">every namespace</option></select>
<span id="matrix-count"></span></div>
<table id="matrix-table"><thead><tr><th>source</th><th>destination</th><th>ports</th><th>allowed by</th></tr></thead>
<tbody></tbody></table>
</section>
@SECTIONS@
</main>
<footer>Generated by kreach @VERSION@. Self-contained: no network access is needed to view this file.</footer>
<script type="application/json" id="kreach-data">@DATA@</script>
<script>
(function () {
  "use strict";
  var D = JSON.parse(document.getElementById("kreach-data").textContent);
  var SVGNS = "http://www.w3.org/2000/svg";
  var nsOf = {}, flags = {};
  D.nodes.forEach(function (n) { nsOf[n[0]] = n[1]; flags[n[0]] = {exposed: n[2], jewel: n[3]}; });
  function name(i) { return D.ids[i]; }
  function el(tag, attrs, parent) {
    var e = document.createElementNS(SVGNS, tag);
    for (var k in attrs) { e.setAttribute(k, attrs[k]); }
    if (parent) { parent.appendChild(e); }
    return e;
  }
  function short(id) { var s = id.split("/"); return s[s.length - 1].replace(/\\[.*\\]$/, ""); }

  // ---- matrix ----
  var filterBox = document.getElementById("matrix-filter"), nsBox = document.getElementById("matrix-ns");
  D.namespaces.forEach(function (ns, i) {
    var o = document.createElement("option"); o.value = String(i); o.textContent = ns; nsBox.appendChild(o);
  });
  var LIMIT = 500;
  function renderMatrix() {
    var q = filterBox.value.toLowerCase(), ns = nsBox.value, body = document.querySelector("#matrix-table tbody");
    var rows = [], total = 0;
    for (var k = 0; k < D.edges.length; k++) {
      var e = D.edges[k];
      if (ns !== "" && String(nsOf[e[0]]) !== ns && String(nsOf[e[1]]) !== ns) { continue; }
      var text = name(e[0]) + " " + name(e[1]) + " " + D.texts[e[2]] + " " + D.texts[e[3]];
      if (q && text.toLowerCase().indexOf(q) < 0) { continue; }
      total++;
      if (rows.length < LIMIT) { rows.push(e); }
    }
    var frag = document.createDocumentFragment();
    rows.forEach(function (e) {
      var tr = document.createElement("tr");
      [name(e[0]), name(e[1]), D.texts[e[2]], D.texts[e[3]]].forEach(function (t) {
        var td = document.createElement("td"); td.textContent = t; tr.appendChild(td);
      });
      frag.appendChild(tr);
    });
    body.textContent = "";
    body.appendChild(frag);
    document.getElementById("matrix-count").textContent = total > LIMIT
      ? "showing " + LIMIT + " of " + total + " connections (filter to narrow)" : total + " connections";
  }
  // the filter lives in the address (report.html#filter=api&ns=shop), so a view can be linked
  function readHash() {
    var h = {};
    location.hash.replace(/^#/, "").split("&").forEach(function (kv) {
      var p = kv.split("="); if (p[0]) { h[decodeURIComponent(p[0])] = decodeURIComponent(p[1] || ""); }
    });
    if (h.filter !== undefined) { filterBox.value = h.filter; }
    if (h.ns !== undefined) { var i = D.namespaces.indexOf(h.ns); nsBox.value = i < 0 ? "" : String(i); }
  }
  function writeHash() {
    var parts = [];
    if (filterBox.value) { parts.push("filter=" + encodeURIComponent(filterBox.value)); }
    if (nsBox.value !== "") { parts.push("ns=" + encodeURIComponent(D.namespaces[Number(nsBox.value)])); }
    try { history.replaceState(null, "", parts.length ? "#" + parts.join("&") : location.pathname); } catch (err) { /* file:// may refuse */ }
  }
  filterBox.addEventListener("input", function () { renderMatrix(); writeHash(); });
  nsBox.addEventListener("change", function () { renderMatrix(); writeHash(); });
  readHash();
  renderMatrix();

  // ---- graph ----
  var svg = document.getElementById("graph-svg"), back = document.getElementById("graph-back");
  var W = 1200, H = 620;
  svg.setAttribute("viewBox", "0 0 " + W + " " + H);
  var defs = el("defs", {}, svg);
  var marker = el("marker", {id: "arrow", viewBox: "0 0 10 10", refX: "10", refY: "5", markerWidth: "6",
                             markerHeight: "6", orient: "auto-start-reverse"}, defs);
  el("path", {d: "M 0 0 L 10 5 L 0 10 z", fill: "#8a94a8"}, marker);
  function clear() { while (svg.lastChild && svg.lastChild !== defs) { svg.removeChild(svg.lastChild); } }
  function circle(cx, cy, r, count, k) {
    var a = 2 * Math.PI * k / Math.max(count, 1) - Math.PI / 2;
    return [cx + r * Math.cos(a), cy + r * Math.sin(a)];
  }
  function line(a, b, cls, g) {
    el("line", {x1: a[0], y1: a[1], x2: b[0], y2: b[1], "class": cls, "marker-end": "url(#arrow)"}, g);
  }
  function drawWorkloads(onlyNs) {
    clear();
    var members = {};
    D.nodes.forEach(function (n) {
      if (onlyNs === undefined || n[1] === onlyNs) { (members[n[1]] = members[n[1]] || []).push(n[0]); }
    });
    var nsList = Object.keys(members).map(Number), pos = {}, gEdges = el("g", {}, svg), gNodes = el("g", {}, svg);
    var R = nsList.length > 1 ? Math.min(W, H) / 2 - 90 : 0;
    nsList.forEach(function (ns, k) {
      var c = nsList.length > 1 ? circle(W / 2, H / 2, R, nsList.length, k) : [W / 2, H / 2];
      var ws = members[ns], r = nsList.length > 1 ? Math.max(22, Math.min(80, 9 * Math.sqrt(ws.length) * 2)) : 240;
      el("circle", {cx: c[0], cy: c[1], r: r + 12, "class": "ns"}, gNodes);
      var label = el("text", {x: c[0], y: c[1] - r - 16, "text-anchor": "middle", "class": "nslabel"}, gNodes);
      label.textContent = D.namespaces[ns];
      ws.forEach(function (w, j) { pos[w] = ws.length > 1 ? circle(c[0], c[1], r, ws.length, j) : c; });
    });
    var outside = [40, 40];
    el("circle", {cx: outside[0], cy: outside[1], r: 14, "class": "outside"}, gNodes);
    var ol = el("text", {x: 60, y: 44, "class": "wlabel"}, gNodes); ol.textContent = "outside";
    var drawn = 0;
    D.edges.forEach(function (e) {
      if (drawn > 4000) { return; }
      var a = e[4] ? outside : pos[e[0]], b = pos[e[1]];
      if (!a || !b || a === b) { return; }
      line(a, b, e[4] ? "edge out" : "edge", gEdges); drawn++;
    });
    Object.keys(pos).forEach(function (w) {
      var p = pos[w], f = flags[w] || {};
      var c = el("circle", {cx: p[0], cy: p[1], r: 7, "class": "wl" + (f.exposed ? " exposed" : "") + (f.jewel ? " jewel" : "")}, gNodes);
      var t = el("title", {}, c); t.textContent = name(Number(w));
      c.addEventListener("click", function () { filterBox.value = short(name(Number(w))); renderMatrix(); });
      if (Object.keys(pos).length <= 80) {
        var lb = el("text", {x: p[0] + 9, y: p[1] + 3, "class": "wlabel"}, gNodes); lb.textContent = short(name(Number(w)));
      }
    });
    back.hidden = onlyNs === undefined || D.nodes.length <= D.workloadGraphLimit;
    document.getElementById("graph-mode").textContent = onlyNs === undefined
      ? D.nodes.length + " workloads" : "namespace " + D.namespaces[onlyNs];
  }
  function drawNamespaces() {
    clear();
    var counts = {}, agg = {}, out = {};
    D.nodes.forEach(function (n) { counts[n[1]] = (counts[n[1]] || 0) + 1; });
    D.edges.forEach(function (e) {
      var t = nsOf[e[1]];
      if (t === undefined) { return; }
      if (e[4]) { out[t] = 1; return; }
      var s = nsOf[e[0]];
      if (s === undefined || s === t) { return; }
      agg[s + ">" + t] = (agg[s + ">" + t] || 0) + 1;
    });
    var nsList = Object.keys(counts).map(Number), pos = {}, gEdges = el("g", {}, svg), gNodes = el("g", {}, svg);
    var rx = W / 2 - 120, ry = H / 2 - 50;
    nsList.forEach(function (ns, k) {
      var a = 2 * Math.PI * k / Math.max(nsList.length, 1) - Math.PI / 2;
      pos[ns] = [W / 2 + rx * Math.cos(a), H / 2 + ry * Math.sin(a)];
    });
    var room = Math.max(3, 0.4 * Math.PI * (rx + ry) / Math.max(nsList.length, 1));
    var hot = {};
    D.nodes.forEach(function (n) { if (n[2]) { hot[n[1]] = 1; } });
    var outside = [40, 40];
    el("circle", {cx: outside[0], cy: outside[1], r: 14, "class": "outside"}, gNodes);
    Object.keys(agg).forEach(function (key) {
      var p = key.split(">"); line(pos[p[0]], pos[p[1]], "edge", gEdges);
    });
    Object.keys(out).forEach(function (t) { line(outside, pos[t], "edge out", gEdges); });
    nsList.forEach(function (ns) {
      var p = pos[ns], r = Math.max(3, Math.min(30, room, 3 * Math.sqrt(counts[ns])));
      var c = el("circle", {cx: p[0], cy: p[1], r: r, "class": "nsnode" + (hot[ns] ? " exposed" : "")}, gNodes);
      var t = el("title", {}, c); t.textContent = D.namespaces[ns] + ": " + counts[ns] + " workloads (click to open)";
      c.addEventListener("click", function () { drawWorkloads(ns); nsBox.value = String(ns); renderMatrix(); });
      if (nsList.length <= 60) {
        var lb = el("text", {x: p[0] + r + 3, y: p[1] + 3, "class": "wlabel"}, gNodes); lb.textContent = D.namespaces[ns];
      }
    });
    back.hidden = true;
    document.getElementById("graph-mode").textContent = nsList.length + " namespaces, " + D.nodes.length
      + " workloads: click a namespace to open it";
  }
  back.addEventListener("click", function () { nsBox.value = ""; renderMatrix(); drawNamespaces(); });
  if (D.nodes.length <= D.workloadGraphLimit) { drawWorkloads(); } else { drawNamespaces(); }
  document.body.setAttribute("data-rendered-ms", String(Math.round(performance.now())));
})();
</script>
</body></html>
"""
