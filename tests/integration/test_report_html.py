#!/usr/bin/env python3
"""The HTML pages of `cpprof report`, `cpprof diff` and the four-run trend,
opened in headless Chromium (Debian's chromium), and the JSON documents
checked against their JSON Schemas (tests/schema/, python3-jsonschema).

Databases come from tools/gen_bigdb.py (small: two runs each, with CPU
profile, etcd fsync and connection rows), plus two variants of one: every
optional section removed (the page must simply leave those sections out),
and hostile text in the run's metadata ("</script>", markup) that must
come out as text. For each page: it is one file that refers to nothing on
the network; Chromium renders it with no console error and no blocked
request, the script marks the body data-rendered="ok" (an uncaught error
would write "RENDER-ERROR: ..." into the page instead) and draws the
expected number of SVG charts; a 1400x2400 screenshot is kept in
BUILD_DIR/artifacts/.

Needs no root. Usage: test_report_html.py BUILD_DIR
Ends with "report-html: N passed, N failed".
"""
import json
import os
import re
import shutil
import sqlite3
import struct
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import itlib  # noqa: E402

OUT = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")
ROOT = itlib.ROOT
CPPROF = os.path.join(OUT, "cpprof")
ART = os.path.join(OUT, "artifacts")
SCHEMAS = os.path.join(ROOT, "tests", "schema")
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
HOSTILE = '</script><b id="pwned">x</b><!-- & "quoted" \'single\''

check = itlib.Checks()
TMP = tempfile.mkdtemp(prefix="cpprof-html.")


def cpprof(*args):
    return subprocess.run([CPPROF, *args], capture_output=True, text=True, timeout=120)


def gen(name, rows, seed):
    db = os.path.join(TMP, name)
    r = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "gen_bigdb.py"), "--rows", str(rows),
                        "--out", db, "--seed", str(seed)], capture_output=True, text=True)
    check(r.returncode == 0, f"gen_bigdb made '{name}' ({rows:,} rows)", r.stderr[-300:])
    r = cpprof("runs", db)
    check(r.returncode == 0 and "base" in r.stdout and "cand" in r.stdout, f"cpprof runs reads '{name}'",
          r.stdout[-300:] + r.stderr[-300:])
    return db


def variant(src, name, sql):
    db = os.path.join(TMP, name)
    shutil.copy(src, db)
    con = sqlite3.connect(db)
    con.executescript(sql)
    con.commit()
    con.close()
    return db


def network_refs(html):
    """http(s):// in the page outside the data element and the SVG
    namespace name; and loading constructs anywhere outside the data."""
    m = re.search(r'<script type="application/json" id="cpprof-data">(.*?)</script>', html, re.S)
    outside = html[:m.start(1)] + html[m.end(1):] if m else html
    refs = [u for u in re.findall(r"https?://[^\s\"'<>)]*", outside) if u != "http://www.w3.org/2000/svg"]
    refs += re.findall(r"""(?:\bsrc\s*=|\bhref\s*=|url\(|@import|<link\b|<iframe\b|\bfetch\(|XMLHttpRequest)""", outside)
    return refs, m


def png_size(path):
    with open(path, "rb") as f:
        head = f.read(24)
    if head[:8] != b"\x89PNG\r\n\x1a\n":
        return None
    return struct.unpack(">II", head[16:24])


def chromium(url, *args):
    prof = tempfile.mkdtemp(dir=TMP, prefix="chrome.")
    cmd = [CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
           "--no-first-run", "--disable-extensions", "--user-data-dir=" + prof,
           "--enable-logging=stderr", "--v=0", "--virtual-time-budget=10000", *args, url]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=180)


def console_errors(stderr):
    """Console messages of the page that are errors: uncaught exceptions,
    console.error, and requests the Content-Security-Policy refused."""
    bad = []
    for line in stderr.splitlines():
        if "CONSOLE" in line or "Uncaught" in line or "Refused to" in line:
            bad.append(line.strip()[:300])
    return bad


def page(name, html_path, min_svg, must_have=(), must_not=()):
    """Open HTML_PATH in Chromium: DOM after the script ran, console,
    screenshot."""
    print(f"-- {name}")
    if not os.path.exists(html_path):
        check(False, f"{name}: page written", html_path)
        return
    html = open(html_path, encoding="utf-8").read()
    refs, data = network_refs(html)
    check(data is not None, f"{name}: the JSON document is embedded")
    check(not refs, f"{name}: one file that refers to nothing on the network", str(refs[:5]))
    if data:
        raw = data.group(1)
        check("<" not in raw and ">" not in raw, f"{name}: no raw '<' or '>' inside the embedded JSON")
        try:
            json.loads(raw)
            ok = True
        except ValueError:
            ok = False
        check(ok, f"{name}: the embedded JSON parses")
    url = "file://" + html_path
    r = chromium(url, "--dump-dom")
    dom = r.stdout
    body = re.search(r"<body[^>]*>", dom)
    errors = re.search(r'<div id="cp-errors"[^>]*>(.*?)</div>', dom, re.S)
    check(r.returncode == 0 and body and 'data-rendered="ok"' in body.group(0),
          f"{name}: the script ran to the end (data-rendered=\"ok\")",
          (body.group(0) if body else "no body") + " " + r.stderr[-300:])
    check(errors is not None and errors.group(1).strip() == "" and "RENDER-ERROR" not in dom.split("<script")[0],
          f"{name}: no RENDER-ERROR in the page", errors.group(1)[:500] if errors else "no error box")
    bad = console_errors(r.stderr)
    check(not bad, f"{name}: no console errors, no refused requests", "\n".join(bad[:5]))
    nsvg = len(re.findall(r"<svg\b", dom))
    check(nsvg >= min_svg, f"{name}: {nsvg} SVG charts drawn (at least {min_svg})")
    check('id="cp-placeholder"' not in dom, f"{name}: the placeholder was replaced")
    # what the page shows: the DOM without the script and data elements
    shown = re.sub(r"<script\b.*?</script>", "", dom, flags=re.S)
    for s in must_have:
        check(s in shown, f"{name}: shows {s!r}")
    for s in must_not:
        check(s not in shown, f"{name}: no {s!r}")
    # axes are labelled with units
    check(re.search(r"latency \(log scale", dom) is not None or min_svg == 0 or "trend" in name,
          f"{name}: latency axes say when they are logarithmic")
    shot = os.path.join(ART, name + ".png")
    if os.path.exists(shot):
        os.unlink(shot)
    r = chromium(url, "--screenshot=" + shot, "--window-size=1400,2400")
    size = png_size(shot) if os.path.exists(shot) else None
    check(size == (1400, 2400) and os.path.getsize(shot) > 20000, f"{name}: screenshot {shot}",
          f"{size} {r.stderr[-300:]}")
    bad = console_errors(r.stderr)
    check(not bad, f"{name}: no console errors while taking the screenshot", "\n".join(bad[:5]))
    print(f"  artifact {shot}")


def validate(name, doc_text, schema_file):
    try:
        import jsonschema
    except ImportError:
        check(False, f"{name}: python3-jsonschema is installed (make deps)")
        return
    path = os.path.join(SCHEMAS, schema_file)
    if not os.path.exists(path):
        check(False, f"{name}: schema {path} exists")
        return
    try:
        doc = json.loads(doc_text)
    except ValueError as e:
        check(False, f"{name}: JSON parses", str(e))
        return
    schema = json.load(open(path))
    v = jsonschema.Draft7Validator(schema)
    errs = sorted(v.iter_errors(doc), key=lambda e: list(e.path))
    check(not errs, f"{name}: valid against {schema_file}",
          "; ".join(f"{'/'.join(map(str, e.path))}: {e.message[:200]}" for e in errs[:5]))


def main():
    if not os.access(CPPROF, os.X_OK):
        print(f"report-html: no '{CPPROF}': build first")
        print("report-html: 0 passed, 1 failed")
        return 1
    os.makedirs(ART, exist_ok=True)
    try:
        if not check(os.access(CHROMIUM, os.X_OK), "chromium is installed (make deps)", CHROMIUM):
            return check.summary("report-html")
        a = gen("a.db", 60000, 1)
        b = gen("b.db", 40000, 2)
        bare = variant(a, "bare.db", """
            DELETE FROM cpu_profile; DELETE FROM cpu_stacks; DELETE FROM syscalls; DELETE FROM sock_stats;
            DELETE FROM requests WHERE component = 'etcd' OR status >= 400;
            UPDATE runs SET nodes = NULL, pods = NULL, namespaces = NULL, cluster_source = NULL,
                            sample_hz = 0, ended_ns = NULL;
            UPDATE targets SET k8s_version = NULL, etcd_version = NULL, cpu_ns = NULL, samples = NULL;""")
        evil = variant(a, "evil.db", "UPDATE runs SET host = %s, command = %s; UPDATE targets SET exe = %s;" % (
            ("'" + HOSTILE.replace("'", "''") + "'",) * 3))

        # JSON against the schemas
        print("-- JSON Schemas")
        for name, args, schema in (
                ("report json", ("report", a, "--format", "json"), "report.schema.json"),
                ("report json, one label", ("report", a, "--label", "cand", "--format", "json"), "report.schema.json"),
                ("report json, no optional sections", ("report", bare, "--format", "json"), "report.schema.json"),
                ("report json, hostile text", ("report", evil, "--format", "json"), "report.schema.json"),
                ("diff json", ("diff", a + ":base", a + ":cand", "--format", "json"), "diff.schema.json"),
                ("diff json, bare vs full", ("diff", bare + ":base", b + ":cand", "--format", "json"), "diff.schema.json"),
                ("trend json", ("diff", "--trend", a + ":base", a + ":cand", b + ":base", b + ":cand", "--format", "json"),
                 "diff.schema.json")):
            r = cpprof(*args)
            if check(r.returncode == 0, f"{name}: cpprof {args[0]} exits 0", r.stderr[-300:]):
                validate(name, r.stdout, schema)

        # pages
        pages = []
        for name, args in (
                ("report", ("report", a)),
                ("report-bare", ("report", bare)),
                ("report-hostile", ("report", evil, "--label", "base")),
                ("diff", ("diff", a + ":base", a + ":cand")),
                ("diff-bare", ("diff", bare + ":base", b + ":cand")),
                ("trend", ("diff", "--trend", a + ":base", a + ":cand", b + ":base", b + ":cand"))):
            out = os.path.join(ART, name + ".html")
            r = cpprof(*args, "--format", "html", "-o", out)
            check(r.returncode == 0 and os.path.exists(out), f"{name}: cpprof {' '.join(args[:1])} --format html -o exits 0",
                  r.stderr[-300:])
            pages.append((name, out))
        spec = {
            # report: percentiles, CDF, latency over time, requests/s, errors/s,
            # fsync latency and rate, CPU shares, serialization per request
            "report": dict(min_svg=9, must_have=("etcd WAL fsync", "Serialization CPU", "Latency distribution (CDF)",
                                                 "Latency over time", "Request and error rates", "Clients served")),
            "report-bare": dict(min_svg=4, must_not=("etcd WAL fsync", "Serialization CPU", "Clients served",
                                                      "Errors per second"),
                                must_have=("Latency over time", "No errors in the run.")),
            "report-hostile": dict(min_svg=9, must_not=('<b id="pwned">', "<b>x</b>", "<!-- &"),
                                   must_have=("&lt;/script&gt;&lt;b id=\"pwned\"&gt;x&lt;/b&gt;",)),
            "diff": dict(min_svg=4, must_have=("SLOWER", "Latency distribution (CDF), BASE vs CAND",
                                                "Serialization CPU per request, BASE vs CAND")),
            "diff-bare": dict(min_svg=2, must_have=("Runs compared",)),
            "trend": dict(min_svg=1, must_have=("Real cluster vs Kubemark", "agree")),
        }
        for name, out in pages:
            page(name, out, **spec[name])
    finally:
        if check.failed == 0:
            shutil.rmtree(TMP, ignore_errors=True)
        else:
            print(f"kept {TMP} for inspection")
    return check.summary("report-html")


if __name__ == "__main__":
    sys.exit(main())
