#!/usr/bin/env python3
"""cpprof against a real Kubernetes API server, as root, with real BPF.

The server is k8s.io/apiextensions-apiserver's own main (Kubernetes 1.36
from Debian sid's sources, Go 1.26; built by tests/apiserver/build.sh),
unmodified, on sid's etcd 3.5. It serves CustomResourceDefinitions and
custom resources through the genuine generic server: x509 client-cert
authentication, the delegating authorizer (its system:masters shortcut),
RequestInfo, priority and fairness, the timeout filter, the watch cache,
etcd3 storage, JSON and CBOR, and its own apiserver_request_total.

What is not as in a cluster: there is no kube-apiserver to delegate to, so
the delegated TokenReview/SubjectAccessReview webhooks and the core-API
client point at a closed port (as upstream's own integration fixture
does); every client is authenticated by a client certificate in group
system:masters, which the delegating authorizer allows before it would ask
the webhook. The admission plugins that need the core API (namespace
lifecycle, webhooks, admission policies) are disabled. CBORServingAndStorage
(alpha in 1.36) is on, so custom resources are served in CBOR and stored
in etcd as CBOR.

Two CRDs (widgets: namespaced, with status and scale subresources;
gadgets: cluster-scoped) are created before recording. Recorded with
`cpprof record --pid`: the test's own load on the custom resources, over
HTTP/1.1 (Python's http.client, one keep-alive connection) and HTTP/2
(curl; kubectl): create, get, list (one namespace and all), watch
(?watch=true and the legacy /watch/ path), update, status update, scale,
merge/JSON/server-side-apply patch, delete, deletecollection, in JSON
and CBOR, with 404, 406 and 409 answers among them. The checks:

- cpprof's requests per call kind (verb, group, version, resource,
  subresource, scope, status) equal the delta of the server's own
  apiserver_request_total between two scrapes of /metrics, for every
  resource request the server counted (its own loopback calls included);
- the calls on the custom resources (group cpprof.test, which only this
  test touches: the server's controllers touch only CRDs) equal what the
  test sent, per call kind and per protocol (HTTP/1.1 vs HTTP/2);
- watches are stored as watch (and lasted their timeoutSeconds), lists
  as list; no lost or unmatched events; the server alive afterwards.

Usage: test_apiserver.py BUILD_DIR [FILTER]. Ends with
"apiserver: N passed, N failed".
"""
import collections
import http.client
import json
import os
import re
import shutil
import sqlite3
import ssl
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import itlib  # noqa: E402
from itlib import Checks, Etcd, stop_proc, stop_record  # noqa: E402

BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")
FILTER = sys.argv[2] if len(sys.argv) > 2 else ""
CPPROF = os.path.join(BUILD, "cpprof")
CACHE = os.environ.get("CPPROF_CACHE", "/var/cache/cpprof")
APISERVER = os.environ.get("APISERVER_BIN", os.path.join(BUILD, "apiserver", "apiextensions-apiserver"))
ETCD35 = os.path.join(CACHE, "etcd-sid", "usr", "bin", "etcd")
KUBECTL = os.path.join(CACHE, "kubectl-sid", "usr", "bin", "kubectl")
TMP = tempfile.mkdtemp(prefix="cpprof-apiserver.")
GROUP, VERSION = "cpprof.test", "v1"
DISABLED_ADMISSION = ("NamespaceLifecycle,MutatingAdmissionWebhook,ValidatingAdmissionWebhook,"
                      "ValidatingAdmissionPolicy,MutatingAdmissionPolicy")

check = Checks()


# ---- certificates and kubeconfigs --------------------------------------------

def openssl(*args):
    r = subprocess.run(["openssl", *args], capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"openssl {' '.join(args)}: {r.stderr}")


def make_certs():
    """A client CA and an admin client certificate in group system:masters
    (O=system:masters), which kube-apiserver's authorizers allow before any
    other check; the server makes its own self-signed serving cert."""
    ca, key = os.path.join(TMP, "ca.crt"), os.path.join(TMP, "ca.key")
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    openssl("req", "-x509", *ec, "-keyout", key, "-out", ca, "-days", "2", "-subj", "/CN=cpprof-test-ca")
    ckey, csr, crt = (os.path.join(TMP, f"admin.{x}") for x in ("key", "csr", "crt"))
    openssl("req", *ec, "-keyout", ckey, "-out", csr, "-subj", "/O=system:masters/CN=cpprof-admin")
    openssl("x509", "-req", "-in", csr, "-CA", ca, "-CAkey", key, "-CAcreateserial", "-out", crt, "-days", "2")
    return ca, crt, ckey


def write_kubeconfig(path, server, crt=None, key=None):
    user = {"client-certificate": crt, "client-key": key} if crt else {}
    cfg = {"apiVersion": "v1", "kind": "Config", "current-context": "c",
           "clusters": [{"name": "c", "cluster": {"server": server, "insecure-skip-tls-verify": True}}],
           "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}],
           "users": [{"name": "u", "user": user}]}
    with open(path, "w") as f:
        json.dump(cfg, f)  # JSON is YAML
    return path


# ---- a little CBOR (RFC 8949), enough for an object ---------------------------

def cbor(v):
    def head(major, n):
        if n < 24:
            return bytes([major << 5 | n])
        for ai, size in ((24, 1), (25, 2), (26, 4), (27, 8)):
            if n < 1 << (8 * size):
                return bytes([major << 5 | ai]) + n.to_bytes(size, "big")
        raise ValueError(n)
    if isinstance(v, bool):
        return b"\xf5" if v else b"\xf4"
    if isinstance(v, int):
        return head(0, v) if v >= 0 else head(1, -1 - v)
    if isinstance(v, str):
        b = v.encode()
        return head(3, len(b)) + b
    if isinstance(v, list):
        return head(4, len(v)) + b"".join(cbor(x) for x in v)
    if isinstance(v, dict):
        return head(5, len(v)) + b"".join(cbor(k) + cbor(x) for k, x in v.items())
    raise TypeError(type(v))


CBOR_SELF_DESCRIBED = b"\xd9\xd9\xf7"  # tag 55799, which Kubernetes' encoder writes first


# ---- the test's own oracle of call kinds --------------------------------------

def kind_of(method, path, query, ctype=""):
    """(verb, group, version, resource, subresource, scope) of a request
    the test sends, written out independently of user/k8s/k8s_reqinfo.c."""
    q = dict(kv.split("=", 1) if "=" in kv else (kv, "") for kv in query.split("&") if kv)
    parts = [p for p in path.strip("/").split("/") if p]
    if not parts or parts[0] != "apis" or len(parts) < 4:
        return (method.lower(), "", "", "", "", "")
    group, version, parts = parts[1], parts[2], parts[3:]
    watch = False
    if parts[0] == "watch":
        watch, parts = True, parts[1:]
    ns = None
    if parts[0] == "namespaces" and len(parts) >= 3:
        ns, parts = parts[1], parts[2:]
    resource, name = parts[0], parts[1] if len(parts) > 1 else ""
    sub = parts[2] if len(parts) > 2 else ""
    verb = {"GET": "get", "POST": "create", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}[method]
    if watch or q.get("watch") in ("true", "1"):
        verb = "watch"
    elif not name and verb == "get":
        verb = "list"
    elif not name and verb == "delete":
        verb = "deletecollection"
    if verb in ("list", "watch") and not name:
        # RequestInfo names the object a list or watch selects by name
        sel = q.get("fieldSelector", "").replace("%3D", "=").replace("%3d", "=")
        if sel.startswith("metadata.name="):
            name = sel.split("=", 1)[1]
    # CleanScope (k8s.io/apiserver/pkg/endpoints/metrics): a create is "resource"
    scope = "resource" if name or verb == "create" else ("namespace" if ns else "cluster")
    return (verb, group, version, resource, sub, scope)


METRIC_VERBS = {"POST": "create", "CREATE": "create", "PUT": "update", "UPDATE": "update",
                "PATCH": "patch", "APPLY": "patch", "DELETE": "delete",
                "DELETECOLLECTION": "deletecollection", "GET": "get", "LIST": "list",
                "WATCH": "watch", "WATCHLIST": "watch"}


def scrape(client):
    """apiserver_request_total as {(verb, group, version, resource,
    subresource, scope, code): count}, verbs mapped to cpprof's."""
    st, _, body = client.request("GET", "/metrics")
    if st != 200:
        raise RuntimeError(f"/metrics answered {st}")
    if os.environ.get("CPPROF_SAVE_METRICS"):  # seeds for tests/fuzz/corpus/promtext
        with open(os.environ["CPPROF_SAVE_METRICS"], "wb") as f:
            f.write(body)
    out = collections.Counter()
    for line in body.decode().splitlines():
        if not line.startswith("apiserver_request_total{"):
            continue
        m = re.match(r"apiserver_request_total\{(.*)\} (\S+)$", line)
        labels = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(1)))
        verb = METRIC_VERBS.get(labels.get("verb", ""), labels.get("verb", "").lower())
        if verb == "delete" and labels.get("scope") in ("namespace", "cluster"):
            verb = "deletecollection"  # the CR handler reports DELETE of a collection as DELETE
        key = (verb, labels.get("group", ""), labels.get("version", ""), labels.get("resource", ""),
               labels.get("subresource", ""), labels.get("scope", ""), int(labels.get("code", "0")))
        out[key] += int(float(m.group(2)))
    return out


# ---- clients --------------------------------------------------------------------

class H1:
    """HTTP/1.1 over TLS with the admin client certificate, one keep-alive
    connection; every request is logged as (kind, status, protocol)."""

    def __init__(self, port, crt, key, sent):
        self.ctx = ssl.create_default_context()
        self.ctx.check_hostname = False
        self.ctx.verify_mode = ssl.CERT_NONE
        self.ctx.load_cert_chain(crt, key)
        self.ctx.set_alpn_protocols(["http/1.1"])
        self.port, self.sent = port, sent
        self.conn = None

    def request(self, method, target, body=None, ctype="application/json", accept="application/json",
                log=True, timeout=30):
        if self.conn is None:
            self.conn = http.client.HTTPSConnection("127.0.0.1", self.port, context=self.ctx, timeout=timeout)
        hdr = {"Accept": accept}
        if body is not None:
            hdr["Content-Type"] = ctype
            if isinstance(body, (dict, list)):
                body = json.dumps(body).encode()
        try:
            self.conn.request(method, target, body=body, headers=hdr)
            r = self.conn.getresponse()
            data = r.read()
        except (http.client.HTTPException, OSError):
            self.conn.close()
            self.conn = None
            raise
        if log and self.sent is not None:
            path, _, query = target.partition("?")
            self.sent.append((kind_of(method, path, query), r.status, "HTTP/1.1"))
        return r.status, r.getheader("Content-Type", ""), data

    def close(self):
        if self.conn:
            self.conn.close()


class H2:
    """HTTP/2 through curl, one process per request (curl says which
    protocol it spoke)."""

    def __init__(self, port, crt, key, sent):
        self.base = f"https://127.0.0.1:{port}"
        self.crt, self.key, self.sent = crt, key, sent
        self.n = 0

    def request(self, method, target, body=None, ctype="application/json", accept="application/json",
                log=True, timeout=30):
        self.n += 1
        outf = os.path.join(TMP, f"h2-{self.n}.out")
        cmd = ["curl", "-sS", "--http2", "-k", "--cert", self.crt, "--key", self.key, "-X", method,
               "-H", f"Accept: {accept}", "-o", outf, "-w", "%{http_code} %{http_version}",
               "--max-time", str(timeout), self.base + target]
        data = None
        if body is not None:
            if isinstance(body, (dict, list)):
                body = json.dumps(body).encode()
            cmd[1:1] = ["-H", f"Content-Type: {ctype}", "--data-binary", "@-"]
            data = body
        r = subprocess.run(cmd, input=data, capture_output=True, timeout=timeout + 10)
        status, proto = r.stdout.decode().split()
        if proto != "2":
            raise RuntimeError(f"curl spoke HTTP/{proto}, not HTTP/2: {r.stderr.decode()}")
        with open(outf, "rb") as f:
            out = f.read()
        if log and self.sent is not None:
            path, _, query = target.partition("?")
            self.sent.append((kind_of(method, path, query), int(status), "HTTP/2"))
        return int(status), "", out


# ---- the server -----------------------------------------------------------------

def crd(plural, kind, scope, subresources):
    schema = {"type": "object", "properties": {
        "spec": {"type": "object", "properties": {
            "size": {"type": "integer"}, "color": {"type": "string"}, "replicas": {"type": "integer"}}},
        "status": {"type": "object", "properties": {"replicas": {"type": "integer"},
                                                    "phase": {"type": "string"}}}}}
    v = {"name": VERSION, "served": True, "storage": True, "schema": {"openAPIV3Schema": schema}}
    if subresources:
        v["subresources"] = {"status": {}, "scale": {"specReplicasPath": ".spec.replicas",
                                                     "statusReplicasPath": ".status.replicas"}}
    return {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": f"{plural}.{GROUP}"},
            "spec": {"group": GROUP, "scope": scope, "versions": [v],
                     "names": {"plural": plural, "singular": plural[:-1], "kind": kind, "listKind": kind + "List"}}}


def server_args(etcd_url, port, ca, fake_kubeconfig, certdir="serving"):
    return [APISERVER,
            "--etcd-servers", etcd_url, "--etcd-prefix", "/registry/cpprof-it",
            "--bind-address", "127.0.0.1", "--secure-port", str(port),
            "--cert-dir", os.path.join(TMP, certdir),
            "--client-ca-file", ca,
            "--authentication-skip-lookup",
            "--authentication-kubeconfig", fake_kubeconfig,
            "--authorization-kubeconfig", fake_kubeconfig,
            "--kubeconfig", fake_kubeconfig,
            "--disable-admission-plugins", DISABLED_ADMISSION,
            "--feature-gates", "CBORServingAndStorage=true",
            # cpprof record --apiserver scrapes /metrics as the anonymous user, as
            # a monitoring agent would with a role; the test's own scrape uses its cert
            "--authorization-always-allow-paths", "/healthz,/readyz,/livez,/metrics"]


def wait_until(fn, secs, step=0.2):
    end = time.time() + secs
    while time.time() < end:
        try:
            if fn():
                return True
        except (OSError, http.client.HTTPException, RuntimeError):
            pass
        time.sleep(step)
    return False


# ---- the load ---------------------------------------------------------------------

def ns_path(ns, plural, name="", sub=""):
    p = f"/apis/{GROUP}/{VERSION}/namespaces/{ns}/{plural}"
    return p + (f"/{name}" if name else "") + (f"/{sub}" if sub else "")


def cl_path(plural, name="", sub=""):
    p = f"/apis/{GROUP}/{VERSION}/{plural}"
    return p + (f"/{name}" if name else "") + (f"/{sub}" if sub else "")


def widget(name, size=1, replicas=1):
    return {"apiVersion": f"{GROUP}/{VERSION}", "kind": "Widget", "metadata": {"name": name},
            "spec": {"size": size, "color": "blue", "replicas": replicas}}


def gadget(name, size=1):
    return {"apiVersion": f"{GROUP}/{VERSION}", "kind": "Gadget", "metadata": {"name": name},
            "spec": {"size": size, "color": "red"}}


def rv_of(data):
    return json.loads(data)["metadata"]["resourceVersion"]


def drive(c1, c2, kubectl, watch_log):
    """The recorded load. Returns the number of watch events the test saw."""
    # a watch that sees the creates below: HTTP/1.1, 5 s (it runs alongside)
    events = []

    def watcher():
        w = H1(c1.port, *c1_cert, sent=c1.sent)
        st, _, data = w.request("GET", ns_path("team-a", "widgets") + "?watch=true&timeoutSeconds=5")
        w.close()
        events.extend(l for l in data.splitlines() if l.strip())
        watch_log.append(("watch-h1", st))
    c1_cert = (CERT, KEY)
    t = threading.Thread(target=watcher)
    t.start()
    time.sleep(0.5)

    # creates, JSON and CBOR, namespaced and cluster-scoped, both protocols
    for i in range(6):
        c1.request("POST", ns_path("team-a", "widgets"), widget(f"w{i}", i))
    for i in range(3):
        c2.request("POST", ns_path("team-b", "widgets"), widget(f"b{i}", i))
    for i in range(2):
        c1.request("POST", ns_path("team-a", "widgets"), CBOR_SELF_DESCRIBED + cbor(widget(f"c{i}", 7)),
                   ctype="application/cbor", accept="application/cbor")
    for i in range(4):
        (c1 if i % 2 else c2).request("POST", cl_path("gadgets"), gadget(f"g{i}", i))
    st, _, _ = c1.request("POST", ns_path("team-a", "widgets"), widget("w0"))        # 409 AlreadyExists
    assert st == 409, st

    # gets: JSON, CBOR, protobuf (not served for CRs: 406), a missing one (404)
    for i in range(5):
        c1.request("GET", ns_path("team-a", "widgets", f"w{i}"))
    st, ct, data = c1.request("GET", ns_path("team-a", "widgets", "c0"), accept="application/cbor")
    cbor_ok = st == 200 and ct.startswith("application/cbor") and data.startswith(CBOR_SELF_DESCRIBED)
    c1.request("GET", ns_path("team-a", "widgets", "w1"), accept="application/vnd.kubernetes.protobuf")
    c2.request("GET", ns_path("team-b", "widgets", "b0"))
    c2.request("GET", cl_path("gadgets", "g1"))
    c1.request("GET", ns_path("team-a", "widgets", "nope"))
    c2.request("GET", cl_path("gadgets", "nope"))

    # lists: one namespace, all namespaces, cluster-scoped, CBOR, paged
    for _ in range(3):
        c1.request("GET", ns_path("team-a", "widgets"))
    c2.request("GET", ns_path("team-b", "widgets"))
    c1.request("GET", cl_path("widgets"))
    c2.request("GET", cl_path("widgets"))
    c1.request("GET", cl_path("gadgets"), accept="application/cbor")
    c2.request("GET", cl_path("gadgets") + "?limit=2")
    c1.request("GET", ns_path("team-a", "widgets") + "?labelSelector=app%3Dnone&resourceVersion=0")

    # updates (with the current resourceVersion), a stale one (409), status, scale
    for i in range(3):
        st, _, data = c1.request("GET", ns_path("team-a", "widgets", f"w{i}"))
        obj = json.loads(data)
        obj["spec"]["size"] = 10 + i
        c1.request("PUT", ns_path("team-a", "widgets", f"w{i}"), obj)
    obj["spec"]["size"] = 99
    c1.request("PUT", ns_path("team-a", "widgets", "w2"), obj)                        # stale: 409
    st, _, data = c2.request("GET", ns_path("team-b", "widgets", "b0"))
    obj = json.loads(data)
    obj["status"] = {"replicas": 1, "phase": "Ready"}
    c2.request("PUT", ns_path("team-b", "widgets", "b0", "status"), obj)
    c1.request("GET", ns_path("team-a", "widgets", "w3", "scale"))
    c2.request("GET", ns_path("team-b", "widgets", "b1", "scale"))
    st, _, data = c1.request("GET", ns_path("team-a", "widgets", "w3", "scale"))
    scale = json.loads(data)
    scale["spec"]["replicas"] = 3
    c1.request("PUT", ns_path("team-a", "widgets", "w3", "scale"), scale)
    st, _, data = c2.request("GET", cl_path("gadgets", "g2"))
    obj = json.loads(data)
    obj["spec"]["size"] = 42
    c2.request("PUT", cl_path("gadgets", "g2"), obj)

    # patches: merge, JSON patch, server-side apply (metrics say APPLY), on status too
    c1.request("PATCH", ns_path("team-a", "widgets", "w4"), {"spec": {"color": "green"}},
               ctype="application/merge-patch+json")
    c2.request("PATCH", ns_path("team-b", "widgets", "b1"), [{"op": "replace", "path": "/spec/size", "value": 5}],
               ctype="application/json-patch+json")
    c1.request("PATCH", ns_path("team-a", "widgets", "w5", "status"), {"status": {"phase": "Done"}},
               ctype="application/merge-patch+json")
    c2.request("PATCH", cl_path("gadgets", "g3"), {"spec": {"color": "black"}},
               ctype="application/merge-patch+json")
    applied = json.dumps(widget("applied", 3)).encode()
    c1.request("PATCH", ns_path("team-a", "widgets", "applied") + "?fieldManager=cpprof-it",
               applied, ctype="application/apply-patch+yaml")
    c2.request("PATCH", ns_path("team-b", "widgets", "applied") + "?fieldManager=cpprof-it",
               applied, ctype="application/apply-patch+yaml")

    # more watches: HTTP/2 across namespaces, the legacy /watch/ path, one named object
    st, _, _ = c2.request("GET", cl_path("widgets") + "?watch=true&timeoutSeconds=1")
    watch_log.append(("watch-h2", st))
    st, _, _ = c1.request("GET", f"/apis/{GROUP}/{VERSION}/watch/namespaces/team-b/widgets?timeoutSeconds=1")
    watch_log.append(("watch-legacy", st))
    st, _, _ = c2.request("GET", cl_path("gadgets") + "?watch=1&fieldSelector=metadata.name%3Dg0&timeoutSeconds=1")
    watch_log.append(("watch-named", st))

    # kubectl (HTTP/2, client-go): get, apply, delete; its requests come from its -v=6 log
    # (--raw: kubectl's typed commands need the root discovery documents
    # /api and /apis, which kube-apiserver's aggregator serves, not this server)
    kw = os.path.join(TMP, "kubectl-widget.json")
    with open(kw, "w") as f:
        json.dump(widget("k1", 5), f)
    for args in (["get", "--raw", ns_path("team-a", "widgets")],
                 ["get", "--raw", cl_path("gadgets", "g0")],
                 ["create", "--raw", ns_path("team-a", "widgets"), "-f", kw],
                 ["delete", "--raw", ns_path("team-a", "widgets", "w0")],
                 ["delete", "--raw", cl_path("gadgets", "g0")]):
        kubectl(*args)

    # deletes: one object, then a collection in one namespace
    c1.request("DELETE", ns_path("team-a", "widgets", "w1"))
    c2.request("DELETE", cl_path("gadgets", "g1"))
    c1.request("DELETE", ns_path("team-a", "widgets", "w1"))                         # 404
    c2.request("DELETE", ns_path("team-b", "widgets"))

    t.join(timeout=30)
    return events, cbor_ok


CA = CERT = KEY = None


def kubectl_runner(kubeconfig, sent):
    """Run sid's kubectl at -v=6 and log each request it made (its
    round-tripper prints method, URL and status of every response)."""
    def run(*args):
        r = subprocess.run([KUBECTL, "--kubeconfig", kubeconfig, "--cache-dir", os.path.join(TMP, "kcache"),
                            "-v=6", *args], capture_output=True, text=True, timeout=60)
        n = 0
        for line in r.stderr.splitlines():
            m = re.search(r'verb="(\w+)" url="https://[^/"]+([^"?]*)\??([^"]*)" status="(\d+)', line) or \
                re.search(r'\] (GET|POST|PUT|PATCH|DELETE) https://[^/ ]+([^? ]*)\??(\S*) (\d+)', line)
            if m:
                sent.append((kind_of(m.group(1), m.group(2), m.group(3)), int(m.group(4)), "HTTP/2"))
                n += 1
        if n == 0:
            raise RuntimeError(f"kubectl {' '.join(args)}: no request lines in its log: {r.stderr[-600:]}")
        return r
    return run


# ---- the case ---------------------------------------------------------------------

def real_apiserver():
    global CA, CERT, KEY
    for path, what in ((APISERVER, "tests/apiserver/build.sh (make integration builds it)"),
                       (ETCD35, "tools/fetch_debian.sh etcd-sid (make deps)"),
                       (KUBECTL, "tools/fetch_debian.sh kubectl-sid (make deps)")):
        if not check(os.access(path, os.X_OK), f"{os.path.basename(path)} present", f"{path} is missing; run {what}"):
            return
    CA, CERT, KEY = make_certs()
    ca = CA
    etcd = Etcd(TMP, "etcd35", exe=ETCD35)
    srv = rec = None
    try:
        check(etcd.healthy(30), "sid's etcd 3.5 healthy")
        port = itlib.free_port()
        fake = write_kubeconfig(os.path.join(TMP, "nowhere.kubeconfig"), "https://127.0.0.1:1")
        args = server_args(etcd.url, port, ca, fake)
        print("   server: " + " ".join(a if a else "''" for a in args))
        slog = open(os.path.join(TMP, "apiserver.log"), "w")
        srv = subprocess.Popen(args, stdout=slog, stderr=subprocess.STDOUT)
        admin = H1(port, CERT, KEY, sent=None)
        up = wait_until(lambda: srv.poll() is None and admin.request("GET", "/healthz")[0] == 200, 90)
        if not check(up, "the real apiserver answers /healthz",
                     open(os.path.join(TMP, "apiserver.log")).read()[-1500:]):
            return
        r = subprocess.run([CPPROF, "inspect", "--pid", str(srv.pid)], capture_output=True, text=True, timeout=60)
        check(r.returncode == 0 and "serverHandler.ServeHTTP" in r.stdout,
              "inspect of the real apiserver (Go 1.26, k8s.io/apiserver 1.36) finds the net/http probes",
              r.stdout[-600:] + r.stderr[-300:])

        for c in (crd("widgets", "Widget", "Namespaced", True), crd("gadgets", "Gadget", "Cluster", False)):
            st, _, body = admin.request("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", c)
            check(st == 201, f"CRD {c['metadata']['name']} created", f"{st} {body[:300]!r}")

        def served():
            return (admin.request("GET", ns_path("x", "widgets"))[0] == 200 and
                    admin.request("GET", cl_path("gadgets"))[0] == 200)
        check(wait_until(served, 30), "custom resources served")
        time.sleep(3)  # let the CRD controllers' own status updates settle

        kcfg = write_kubeconfig(os.path.join(TMP, "admin.kubeconfig"), f"https://127.0.0.1:{port}", CERT, KEY)
        sent, watch_log = [], []
        c1 = H1(port, CERT, KEY, sent)
        c2 = H2(port, CERT, KEY, sent)
        kubectl = kubectl_runner(kcfg, sent)
        kubectl("get", "--raw", cl_path("widgets"))  # kubectl works against it (unrecorded)

        db = os.path.join(TMP, "apiserver.db")
        rec, log = itlib.start_record([CPPROF, "record", "--db", db, "--label", "real", "--pid", str(srv.pid),
                                       "--component", "apiserver", "--no-syscalls", "--no-sockets",
                                       "--apiserver", f"https://127.0.0.1:{port}", "--apiserver-insecure",
                                       "--metrics-interval", "2"],
                                      os.path.join(TMP, "record.log"))
        del sent[:]
        before = scrape(admin)
        t0 = time.time()
        events, cbor_ok = drive(c1, c2, kubectl, watch_log)
        after = scrape(admin)
        secs = time.time() - t0
        time.sleep(0.3)
        rc, text = stop_record(rec, log)
        rec = None
        c1.close()
        check(rc == 0, "cpprof record exits 0", text[-500:])
        check(srv.poll() is None and admin.request("GET", "/healthz")[0] == 200,
              "the real apiserver alive and answering after recording")
        check(cbor_ok, "the server answers a CBOR get in CBOR (self-described tag)")
        check(len(events) >= 8, f"the HTTP/1.1 watch saw the creates in team-a as events ({len(events)})")
        check(all(st == 200 for _, st in watch_log) and len(watch_log) == 4,
              "four watches answered 200", str(watch_log))
        print(f"   load: {len(sent)} requests by the test in {secs:.1f}s")
        compare(db, sent, before, after)
        cross_check(db)
    finally:
        teardown(rec, srv, etcd)


def teardown(rec, srv, etcd):
    """Kill the recorder, stop the server (SIGTERM, then SIGKILL after 20 s), stop etcd."""
    if rec:
        rec.kill()
    stop_proc(srv)
    etcd.stop()


def cross_check(db):
    """issue 12 on a real server: `cpprof report --format json` puts the
    server's own apiserver_request_total delta and duration buckets (scraped
    by record --apiserver) beside every call kind cpprof counted."""
    r = subprocess.run([CPPROF, "report", db, "--format", "json"], capture_output=True, text=True)
    try:
        run = json.loads(r.stdout)["runs"][0]
    except (ValueError, KeyError, IndexError):
        check(False, "report --format json of the real server's run", r.stderr[-300:])
        return
    scr = (run.get("metrics_check") or {}).get("endpoints") or []
    check(scr and all(e.get("errors", 1) == 0 or not e.get("errors") for e in scr),
          "record --apiserver scraped the real server's /metrics without an error", json.dumps(scr)[:400])
    calls = [c for c in run["calls"] if c["resource"]]
    bad = [(c["verb"], c["resource"], c["subresource"], c["scope"], c["count"], c.get("metrics"))
           for c in calls if (c.get("metrics") or {}).get("verdict") != "agree"]
    check(calls and not bad, f"report: every one of {len(calls)} call kinds agrees with the real server's "
          "apiserver_request_total (count; p50/p99 in or next to its bucket)", json.dumps(bad)[:900])
    same = [c for c in calls if (c.get("metrics") or {}).get("count") == c["count"]]
    print(f"   report cross-check: {len(same)} of {len(calls)} call kinds with metrics.count == count, "
          f"{sum(c['count'] for c in same)} requests")
    text = subprocess.run([CPPROF, "report", db], capture_output=True, text=True).stdout
    check("Cross-check" in text and " 0 disagree" in text, "report text: the agreement table, no disagreement",
          text[text.find("Cross-check"):][:400])


def compare(db, sent, before, after):
    con = sqlite3.connect(db)
    run = con.execute("SELECT lost_events, unmatched FROM runs WHERE label='real'").fetchone()
    check(run == (0, 0), "no lost events, no unmatched requests", str(run))
    rows = con.execute("""SELECT verb, api_group, api_version, resource, subresource, scope, status,
                                 protocol, latency_ns, watch, path, component FROM requests""").fetchall()
    check({r[11] for r in rows} == {"apiserver"}, "every request stored for component apiserver",
          str({r[11] for r in rows}))

    # 1. cpprof against the server's own apiserver_request_total, every resource call kind
    # resource requests only: the server also counts /healthz and a few
    # other paths, without a verb that maps onto cpprof's
    delta = collections.Counter({k: after[k] - before[k] for k in after if after[k] - before[k] > 0 and k[3]})
    # cpprof scopes a create as the metrics do (CleanScope): "resource"
    got = collections.Counter(r[:7] for r in rows if r[3])
    creates = sum(1 for r in rows if r[3] and r[0] == "create")
    check(creates and all(r[5] == "resource" for r in rows if r[3] and r[0] == "create"),
          f"the {creates} creates stored with scope 'resource', as apiserver_request_total has them")
    diff = {k: (delta[k], got[k]) for k in set(delta) | set(got) if delta[k] != got[k]}
    print("   per call kind (verb group version resource subresource scope status): metrics / cpprof")
    for k in sorted(set(delta) | set(got)):
        print(f"     {' '.join(str(x) if x != '' else '-' for x in k):70s} {delta[k]:4d} {got[k]:4d}")
    check(not diff and delta, f"cpprof == the server's apiserver_request_total delta for every call kind "
          f"({len(delta)} kinds, {sum(delta.values())} requests)", f"(metrics, cpprof) {diff}")

    # 2. the custom resources: exactly what the test sent, per kind, status and protocol
    want = collections.Counter((*k, st, proto) for k, st, proto in sent if k[1] == GROUP)
    mine = collections.Counter((*r[:7], r[7]) for r in rows if r[1] == GROUP)
    diff = {k: (want[k], mine[k]) for k in set(want) | set(mine) if want[k] != mine[k]}
    protos = collections.Counter(k[-1] for k in want.elements())
    check(not diff and want, f"custom resources: cpprof == the test's own calls per kind, status and protocol "
          f"({sum(want.values())} calls, {len({k[:6] for k in want})} kinds, "
          f"{protos['HTTP/1.1']} HTTP/1.1, {protos['HTTP/2']} HTTP/2)",
          f"(sent, stored) {diff}")
    verbs = {k[0] for k in want}
    check({"create", "get", "list", "watch", "update", "patch", "delete", "deletecollection"} <= verbs,
          "the load covers every verb", str(verbs))
    check({"namespace", "cluster", "resource"} <= {k[5] for k in want} and {"status", "scale"} <= {k[4] for k in want},
          "... every scope and the status and scale subresources")

    # 3. watch versus list
    watches = [r for r in rows if r[1] == GROUP and r[0] == "watch"]
    lists = [r for r in rows if r[1] == GROUP and r[0] == "list"]
    check(len(watches) == sum(1 for k, _, _ in sent if k[0] == "watch" and k[1] == GROUP) == 4 and
          all(r[9] == 1 for r in watches), "4 watches stored as watch (watch=1)", str(watches))
    check(all(r[8] >= 0.9e9 for r in watches), "every watch lasted its timeoutSeconds (>= 0.9 s)",
          str([r[8] for r in watches]))
    check(lists and all(r[9] == 0 for r in lists) and max(r[8] for r in lists) < 0.9e9,
          f"{len(lists)} lists stored as list, none as long as a watch")
    nonres = collections.Counter(r[10] for r in rows if not r[3])
    print(f"   non-resource requests stored: {dict(nonres)}")
    # the test's own two scrapes and every one record --apiserver made (it scrapes while attached)
    own = con.execute("SELECT count(*) FROM metric_scrapes").fetchone()[0]
    check(nonres["/metrics"] == 2 + own, f"every /metrics scrape (the test's 2, cpprof's {own}) stored as a "
          "non-resource request", str(nonres))
    con.close()


def cpu_load(port, secs, stop_at):
    """Writers and readers on their own HTTP/1.1 connections until
    STOP_AT: creates (JSON and CBOR), gets, lists, merge patches."""
    def worker(i):
        c = H1(port, CERT, KEY, sent=None)
        n = 0
        while time.time() < stop_at:
            name = f"load-{i}-{n}"
            if n % 2:
                c.request("POST", ns_path("load", "widgets"), CBOR_SELF_DESCRIBED + cbor(widget(name, n)),
                          ctype="application/cbor", accept="application/cbor")
            else:
                c.request("POST", ns_path("load", "widgets"), widget(name, n))
            c.request("GET", ns_path("load", "widgets", name), accept="application/cbor" if n % 2 else "application/json")
            c.request("PATCH", ns_path("load", "widgets", name), {"spec": {"color": "red"}},
                      ctype="application/merge-patch+json")
            if n % 5 == 0:
                c.request("GET", ns_path("load", "widgets"), accept="application/cbor" if n % 2 else "application/json")
            n += 1
        c.close()
    ts = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()


def cpu_case():
    """The same server under a heavier load, sampled at 999 Hz: the CPU
    of a real apiserver by category, each phase category seen."""
    global CA, CERT, KEY
    if not all(os.access(p, os.X_OK) for p in (APISERVER, ETCD35)):
        check(False, "cpu: apiextensions-apiserver and etcd present")
        return
    if CERT is None:
        CA, CERT, KEY = make_certs_into("cpu")
    ca = CA
    etcd = Etcd(TMP, "etcd35-cpu", exe=ETCD35)
    srv = rec = None
    try:
        check(etcd.healthy(30), "cpu: sid's etcd 3.5 healthy")
        port = itlib.free_port()
        fake = write_kubeconfig(os.path.join(TMP, "nowhere.kubeconfig"), "https://127.0.0.1:1")
        slog = open(os.path.join(TMP, "apiserver-cpu.log"), "w")
        srv = subprocess.Popen(server_args(etcd.url, port, ca, fake, "serving-cpu"), stdout=slog,
                               stderr=subprocess.STDOUT)
        admin = H1(port, CERT, KEY, sent=None)
        if not check(wait_until(lambda: srv.poll() is None and admin.request("GET", "/healthz")[0] == 200, 90),
                     "cpu: the real apiserver answers /healthz"):
            return
        admin.request("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
                      crd("widgets", "Widget", "Namespaced", True))
        check(wait_until(lambda: admin.request("GET", ns_path("load", "widgets"))[0] == 200, 30),
              "cpu: custom resources served")
        db = os.path.join(TMP, "apiserver-cpu.db")
        rec, log = itlib.start_record([CPPROF, "record", "--db", db, "--label", "cpu", "--pid", str(srv.pid),
                                       "--component", "apiserver", "--sample-hz", "999",
                                       "--no-syscalls", "--no-sockets"], os.path.join(TMP, "record-cpu.log"))
        watch = threading.Thread(target=lambda: H1(port, CERT, KEY, sent=None).request(
            "GET", ns_path("load", "widgets") + "?watch=true&timeoutSeconds=8"))
        watch.start()
        cpu_load(port, 8, time.time() + 8)
        watch.join()
        rc, text = stop_record(rec, log)
        rec = None
        check(rc == 0, "cpu: cpprof record exits 0", text[-400:])
        con = sqlite3.connect(db)
        cats = dict(con.execute("SELECT category, SUM(samples) FROM cpu_profile GROUP BY category"))
        stacks = dict(con.execute("SELECT category, SUM(samples) FROM cpu_stacks GROUP BY category"))
        total = sum(cats.values())
        print(f"   {total} samples; CPU of the real apiserver by category:")
        for c, n in sorted(cats.items(), key=lambda kv: -kv[1]):
            print(f"     {c:16s} {n:6d}  {100.0 * n / total:5.1f}%")
        check(total > 200 and cats == stacks, f"cpu: {total} samples, cpu_profile and cpu_stacks agree")
        seen = [c for c in ("cbor_encode", "cbor_decode", "json_encode", "json_decode", "http_filters",
                            "authentication", "authorization", "etcd_client", "watch_cache", "conversion",
                            "validation") if cats.get(c, 0) > 0]
        missing = sorted({"cbor_encode", "cbor_decode", "http_filters", "etcd_client", "watch_cache",
                          "conversion", "validation"} - set(seen))
        check(not missing, f"cpu: the phases of a real apiserver are seen ({', '.join(seen)})",
              f"no samples of {missing}")
        con.close()
    finally:
        teardown(rec, srv, etcd)


def make_certs_into(sub):
    global TMP
    saved, TMP = TMP, os.path.join(TMP, sub)
    os.makedirs(TMP, exist_ok=True)
    try:
        return make_certs()
    finally:
        TMP = saved


def main():
    if os.geteuid() != 0:
        print("apiserver: needs root")
        print("apiserver: 0 passed, 1 failed")
        return 1
    if not FILTER or FILTER in "real-apiserver":
        print("-- real-apiserver (apiextensions-apiserver 1.36, Go 1.26, etcd 3.5)")
        try:
            real_apiserver()
        except Exception as e:  # a crash is a failed check, with the reason
            check(False, "real-apiserver case ran to its end", f"{type(e).__name__}: {e}")
    if not FILTER or FILTER in "cpu":
        print("-- cpu (the same server under load, sampled)")
        try:
            cpu_case()
        except Exception as e:
            check(False, "cpu case ran to its end", f"{type(e).__name__}: {e}")
    rc = check.summary("apiserver")
    if rc == 0 and not os.environ.get("CPPROF_KEEP"):
        shutil.rmtree(TMP, ignore_errors=True)
    else:
        print(f"   (logs kept in {TMP})")
    return rc


if __name__ == "__main__":
    sys.exit(main())
