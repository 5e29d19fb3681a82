"""The HTML pieces of the reports: the page's style and script (inline: the page fetches nothing), headline cards,
key–value tables, sortable per-entity tables with a CSV download (a ``data:`` link, so no request), figures."""

from __future__ import annotations

import base64
import html
from pathlib import Path
from urllib.parse import quote

import pandas as pd

from sim.results.fmt import ADDRESS, heading, quantity, unit_of

STYLE = """
*{box-sizing:border-box}
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;max-width:1180px;margin:1.5em auto;
 padding:0 16px;color:#1d232a;line-height:1.4;font-size:15px}
h1{font-size:1.6em;margin:.2em 0}h2{margin-top:1.8em;border-bottom:2px solid #dde3ea;padding-bottom:.2em}
h3{margin:1.2em 0 .4em;font-size:1.05em}
.sub{color:#56616c;margin:.2em 0 1em}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(340px,1fr));gap:12px}
.card{border:1px solid #dde3ea;border-radius:8px;padding:10px 14px;background:#fbfcfd}
.card h3{margin:0 0 .4em}.card a{color:inherit}
.fig{display:flex;justify-content:space-between;gap:10px;border-top:1px solid #eef1f4;padding:3px 0}
.fig .w{color:#3c4650}.fig .v{font-weight:600;white-space:nowrap;font-variant-numeric:tabular-nums}
table{border-collapse:collapse;margin:.4em 0 1em;font-size:13px}
th,td{border:1px solid #d5dbe1;padding:3px 7px;text-align:left;vertical-align:top}
th{background:#f1f4f7;font-weight:600}td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.scroll{max-width:100%;overflow-x:auto}
table.entities th{cursor:pointer;user-select:none}table.entities th[aria-sort]::after{content:" ▾"}
table.entities th[aria-sort=ascending]::after{content:" ▴"}
a.csv{font-size:12px;margin-left:.6em}
figure{margin:1em 0}figure img{max-width:100%;height:auto;border:1px solid #eef1f4}
figcaption{font-size:13px;color:#56616c}
details>summary{cursor:pointer;font-weight:600;font-size:1.2em;margin:1.5em 0 .5em}
code{overflow-wrap:anywhere}.kv th{width:40%}.kv{min-width:50%;max-width:100%}
"""

SCRIPT = """
document.querySelectorAll('table.entities').forEach(function(t){
  t.querySelectorAll('thead th').forEach(function(h,i){h.addEventListener('click',function(){
    var asc=h.getAttribute('aria-sort')!=='ascending';
    t.querySelectorAll('thead th').forEach(function(x){x.removeAttribute('aria-sort')});
    h.setAttribute('aria-sort',asc?'ascending':'descending');
    var body=t.tBodies[0],rows=Array.from(body.rows);
    rows.sort(function(a,b){var x=a.cells[i].dataset.v,y=b.cells[i].dataset.v,nx=parseFloat(x),ny=parseFloat(y);
      var c=(!isNaN(nx)&&!isNaN(ny))?nx-ny:String(x).localeCompare(String(y));return asc?c:-c;});
    rows.forEach(function(r){body.appendChild(r)});});});});
"""

e = html.escape


def page(title: str, body: list[str]) -> str:
    return "\n".join([
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width,initial-scale=1'>",
        f"<title>{e(title)}</title><style>{STYLE}</style></head><body>",
        *body,
        f"<script>{SCRIPT}</script></body></html>",
    ])


def card(title: str, anchor: str, rows: list[tuple[str, str, str]]) -> str:
    """A headline card: (words, shown value, data-key) rows."""
    figs = "".join(f"<div class='fig' data-key='{e(k)}'><span class='w'>{e(w)}</span>"
                   f"<span class='v'>{e(v)}</span></div>" for w, v, k in rows)
    return f"<div class='card' id='card-{e(anchor)}'><h3><a href='#{e(anchor)}'>{e(title)}</a></h3>{figs}</div>"


def kv_table(rows: list[tuple[str, str]], cls: str = "kv") -> str:
    body = "".join(f"<tr><th>{e(k)}</th><td>{e(v)}</td></tr>" for k, v in rows)
    return f"<div class='scroll'><table class='{cls}'>{body}</table></div>"


def _names(value, names: dict[str, str]):
    if isinstance(value, str) and ADDRESS.match(value):
        return names.get(value.lower(), value)
    return value


def entity_frame(frame: pd.DataFrame, names: dict[str, str]) -> pd.DataFrame:
    """A per-entity table as the report shows it: account/address columns dropped (the chain section lists the
    address book), any other address replaced by its name."""
    drop = [c for c in frame.columns
            if c in ("account", "address") and frame[c].map(lambda v: isinstance(v, str) and bool(ADDRESS.match(v))).all()]
    if drop and len(drop) == len(frame.columns):
        drop = []  # a table of addresses only (a pool list): name them instead of emptying it
    out = frame.drop(columns=drop)
    out.index = [_names(i, names) for i in out.index]
    out.index.name = frame.index.name
    return out.apply(lambda col: col.map(lambda v: _names(v, names)))


def entity_table(table_id: str, title: str, frame: pd.DataFrame, names: dict[str, str]) -> str:
    """A sortable table (click a heading) with its CSV (raw values, keys as headers) as a download."""
    frame = entity_frame(frame, names)
    csv = frame.to_csv(index_label=frame.index.name or "name")
    href = "data:text/csv;charset=utf-8," + quote(csv)
    head = f"<th>{e(frame.index.name or 'name')}</th>" + "".join(f"<th>{e(heading(str(c)))}</th>"
                                                                  for c in frame.columns)
    rows = []
    for name, rec in frame.iterrows():
        cells = [f"<th data-v='{e(str(name))}'>{e(str(name))}</th>"]
        for c in frame.columns:
            v = rec[c]
            v = None if (isinstance(v, float) and pd.isna(v)) else v
            numeric = isinstance(v, (int, float)) and not isinstance(v, bool)
            raw = v * unit_of(str(c))[1] if numeric else ("" if v is None else v)
            cells.append(f"<td{' class=n' if numeric else ''} data-v='{e(str(raw))}'>{e(quantity(str(c), v))}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return (f"<h3 id='{e(table_id)}'>{e(title)} <a class='csv' download='{e(table_id)}.csv' href='{e(href)}'>"
            f"download CSV</a></h3><div class='scroll'><table class='entities' data-table='{e(table_id)}'>"
            f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>")


def figure_base64(fig) -> str:
    """A matplotlib figure as base64 PNG text for an inline ``<img>`` (laid out tightly, 90 dpi, no software tag
    so that the bytes repeat); the figure is closed."""
    import io

    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png", dpi=90, metadata={"Software": None})
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode()


def png_figure(png: Path, alt: str) -> str:
    data = base64.b64encode(Path(png).read_bytes()).decode()
    caption = alt.split(" | ", 1)[0] if alt else png.stem.replace("_", " ")
    return (f"<figure data-plot='{e(png.stem)}'><img alt='{e(alt or caption)}' src='data:image/png;base64,{data}'>"
            f"<figcaption>{e(caption)}</figcaption></figure>")
