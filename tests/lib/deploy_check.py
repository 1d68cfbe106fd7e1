#!/usr/bin/python3
"""deploy_check.py - checks the docker compose deployment without a Docker engine.

    /usr/bin/python3 tests/lib/deploy_check.py ROOT CHECK... [--roles "r1 r2 ..."]

ROOT is a repository root (the real one, or a mutated copy made by a test to prove a check
fails). CHECK is one of: compose, env, roleenv and settings (run $WOODCTL), dashboards, backends,
dockerfile. Every problem is
printed on its own line as "FAIL <check>: <what>"; the exit status is 1 when there is one,
0 otherwise ("ok <check>: <n> assertions").

Needs Debian's python3-yaml (/usr/bin/python3, not a pyenv interpreter).
"""
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time

import yaml

# The roles that must each run as exactly one compose service (issue 7).
ROLES = ["customer", "supplier", "ordercheck", "suppliercheck", "order", "stock",
         "ordermanagement", "agent-orchestrator", "agent-logs", "agent-metrics",
         "agent-traces", "agents-ui"]
LOOP_ROLES = {"customer", "supplier", "ordercheck", "suppliercheck", "ordermanagement"}

# Host ports of seed-spec Appendix A (plus order/stock, published for convenience).
PUBLISHED = {3000: ("grafana", 3000), 3002: ("agents-ui", 3002), 4317: ("otel-collector", 4317),
             4318: ("otel-collector", 4318), 5432: ("postgres", 5432),
             8000: ("grafana-mcp", 8000), 8001: ("agent-orchestrator", 8001),
             8002: ("agent-logs", 8002), 8003: ("agent-metrics", 8003),
             8004: ("agent-traces", 8004), 8080: ("adminer", 8080), 8081: ("akhq", 8080),
             9092: ("kafka", 9092), 5000: ("order", 5000), 5001: ("stock", 5001)}

# Ports the infrastructure services listen on inside the network.
INFRA_PORTS = {"otel-collector": {4317, 4318, 13133}, "grafana": {3000}, "grafana-mcp": {8000},
               "loki": {3100}, "mimir": {9009}, "tempo": {3200, 4317, 4318},
               "postgres": {5432}, "kafka": {29092, 9092}}

# Metric names produced by Tempo's metrics generator, not by woodctl roles.
TEMPO_METRIC = re.compile(r"^traces_(spanmetrics|service_graph)_[a-z_]+$")

VAR_RE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}")


class Checker:
    def __init__(self, root, name):
        self.root, self.name = root, name
        self.failures, self.count = [], 0

    def expect(self, cond, what):
        self.count += 1
        if not cond:
            self.failures.append(what)
        return bool(cond)

    def path(self, rel):
        return os.path.join(self.root, rel)

    def load_yaml(self, rel):
        try:
            with open(self.path(rel)) as f:
                return yaml.safe_load(f)
        except (OSError, yaml.YAMLError) as e:
            self.expect(False, f"{rel}: cannot load: {e}")
            return None

    def report(self):
        for f in self.failures:
            print(f"FAIL {self.name}: {f}")
        if not self.failures:
            print(f"ok {self.name}: {self.count} assertions")
        return not self.failures


def env_example(root):
    """NAME=value lines of .env.example (comments and blank lines skipped)."""
    out = {}
    with open(os.path.join(root, ".env.example")) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            name, sep, value = line.partition("=")
            if sep:
                out[name.strip()] = value.strip()
    return out


def interpolate(value, env):
    """Compose-style ${VAR}, ${VAR:-default}, ${VAR:?err} substitution."""
    def sub(m):
        name, op, arg = m.group(1), m.group(2), m.group(3)
        v = env.get(name)
        if op in (":-", "-"):
            return v if v else (arg or "")
        return v or ""
    return VAR_RE.sub(sub, value)


def resolve(obj, env):
    if isinstance(obj, str):
        return interpolate(obj, env)
    if isinstance(obj, list):
        return [resolve(x, env) for x in obj]
    if isinstance(obj, dict):
        return {k: resolve(v, env) for k, v in obj.items()}
    return obj


def env_of(svc):
    e = svc.get("environment") or {}
    if isinstance(e, list):
        e = dict(x.split("=", 1) if "=" in x else (x, "") for x in e)
    return {k: "" if v is None else str(v) for k, v in e.items()}


def parse_port(p):
    """'127.0.0.1:8081:8080' -> (8081, 8080)."""
    parts = str(p).split(":")
    return int(parts[-2]), int(parts[-1].split("/")[0])


def url_host_port(url):
    m = re.match(r"^https?://([^/:@]+@)?([^/:]+):(\d+)", url)
    return (m.group(2), int(m.group(3))) if m else (None, None)


# ----------------------------------------------------------------------------- compose
# What the pinned images without a shell contain, each row read from upstream.
IMAGES_WITHOUT_SHELL = {
    "grafana/loki": {
        "binaries": ["/usr/bin/loki"],
        "source": "distroless since 3.6 (grafana/loki issue 20149); cmd/loki/Dockerfile copies "
                  "only /usr/bin/loki; cmd/loki/health.go gives it -health (v3.7.2 and later)",
    },
}


def check_compose(c, roles_known):
    raw = open(c.path("docker-compose.yml")).read()
    doc = c.load_yaml("docker-compose.yml")
    if not doc:
        return
    env = env_example(c.root)
    services = resolve(doc.get("services") or {}, env)
    c.expect(services, "no services")
    declared_volumes = set((doc.get("volumes") or {}).keys())

    # Images: pinned, never latest.
    woodctl_images, build_services = set(), {}
    for name, s in services.items():
        img = s.get("image")
        if "build" in s:
            build_services[name] = s
            woodctl_images.add(img)
            continue
        if not c.expect(img, f"service {name} has neither image nor build"):
            continue
        ref = img.split("@")[0]
        tag = ref.rsplit(":", 1)[1] if ":" in ref.split("/")[-1] else None
        c.expect(tag or "@sha256:" in img, f"service {name}: image {img} has no tag")
        if tag:
            c.expect(tag != "latest", f"service {name}: image {img} uses :latest")
            c.expect(re.search(r"\d", tag), f"service {name}: image tag of {img} is not a version")
        c.expect(s.get("restart") == "unless-stopped", f"service {name}: restart is not unless-stopped")

    # woodctl roles: one image, built from deploy/Dockerfile, a known role each.
    c.expect(len(woodctl_images) == 1, f"woodctl services use {len(woodctl_images)} images: {sorted(map(str, woodctl_images))}")
    seen = {}
    for name, s in build_services.items():
        b = s["build"]
        b = {"context": b} if isinstance(b, str) else b
        c.expect(b.get("dockerfile") == "deploy/Dockerfile", f"service {name}: build.dockerfile is not deploy/Dockerfile")
        c.expect(b.get("context") in (".", "./"), f"service {name}: build.context is not the repository root")
        c.expect(s.get("restart") == "unless-stopped", f"service {name}: restart is not unless-stopped")
        cmd = s.get("command")
        if not c.expect(isinstance(cmd, list) and cmd, f"service {name}: command is not a non-empty list"):
            continue
        role = cmd[0]
        c.expect(role in roles_known, f"service {name}: role '{role}' is not a woodctl role ({' '.join(sorted(roles_known))})")
        c.expect(role not in seen, f"role {role} runs in two services ({seen.get(role)}, {name})")
        seen[role] = name
        e = env_of(s)
        c.expect(e.get("OTEL_SERVICE_NAME") == role, f"service {name}: OTEL_SERVICE_NAME is '{e.get('OTEL_SERVICE_NAME')}', not '{role}'")
        c.expect(e.get("OTEL_EXPORTER_OTLP_ENDPOINT") == "http://otel-collector:4318",
                 f"service {name}: OTEL_EXPORTER_OTLP_ENDPOINT is '{e.get('OTEL_EXPORTER_OTLP_ENDPOINT')}' (woodctl speaks OTLP/HTTP: http://otel-collector:4318)")
        c.expect(e.get("OTEL_EXPORTER_OTLP_PROTOCOL") == "http/protobuf", f"service {name}: OTEL_EXPORTER_OTLP_PROTOCOL is not http/protobuf")
        ra = e.get("OTEL_RESOURCE_ATTRIBUTES", "")
        for attr in ("deployment.environment.name=", "service.namespace="):
            c.expect(attr in ra, f"service {name}: OTEL_RESOURCE_ATTRIBUTES lacks {attr[:-1]}")
        # Healthcheck: the binary probes its own port.
        hc = s.get("healthcheck") or {}
        test = hc.get("test") or []
        port = e.get("ADMIN_PORT") if role in LOOP_ROLES else e.get("PORT")
        if role in LOOP_ROLES:
            c.expect(e.get("ADMIN_PORT"), f"service {name}: loop role without ADMIN_PORT")
        else:
            c.expect(e.get("PORT"), f"service {name}: no PORT")
        ok = (isinstance(test, list) and test[:3] == ["CMD", "/woodctl", "probe"] and len(test) == 4)
        if c.expect(ok, f"service {name}: healthcheck is not [CMD, /woodctl, probe, URL]: {test}"):
            h, p = url_host_port(test[3])
            c.expect(h in ("127.0.0.1", "localhost") and str(p) == str(port),
                     f"service {name}: healthcheck probes {test[3]}, not its own port {port}")
    for role in ROLES:
        c.expect(role in seen, f"role {role} has no service")
    for role in ("order", "stock"):
        if role in seen:
            db = env_of(services[seen[role]]).get("DATABASE_URL", "")
            c.expect(re.match(rf"^postgres(ql)?://postgres:[^@]+@postgres:5432/{role}_db$", db),
                     f"service {seen[role]}: DATABASE_URL '{db}' does not point to postgres:5432/{role}_db")
            c.expect("${POSTGRES_PASSWORD" in raw, "DATABASE_URL password does not come from ${POSTGRES_PASSWORD}")

    # Every URL pointing at a compose service uses a port that service listens on.
    listen = {n: set(INFRA_PORTS.get(n, set())) for n in services}
    for n, s in build_services.items():
        e = env_of(s)
        for k in ("PORT", "ADMIN_PORT"):
            if e.get(k, "").isdigit():
                listen[n].add(int(e[k]))
    for n, s in services.items():
        for k, v in env_of(s).items():
            if k == "KAFKA_BOOTSTRAP_SERVERS":
                for hp in v.split(","):
                    h, _, p = hp.partition(":")
                    c.expect(h in services and p.isdigit() and int(p) in listen.get(h, set()),
                             f"service {n}: {k}={v} is not a listener of a compose service")
                continue
            h, p = url_host_port(v) if isinstance(v, str) else (None, None)
            if h in services:
                c.expect(p in listen[h], f"service {n}: {k}={v} but {h} listens on {sorted(listen[h])}")
    # Agent URLs name the right agent.
    orch = services.get(seen.get("agent-orchestrator", ""), {})
    oe = env_of(orch)
    for k, target in (("AGENT_LOGS_URL", "agent-logs"), ("AGENT_METRICS_URL", "agent-metrics"),
                      ("AGENT_TRACES_URL", "agent-traces")):
        h, _ = url_host_port(oe.get(k, ""))
        c.expect(h == seen.get(target), f"agent-orchestrator: {k}='{oe.get(k)}' does not name the {target} service")
    for r in ("agent-logs", "agent-metrics", "agent-traces"):
        if r in seen:
            h, p = url_host_port(env_of(services[seen[r]]).get("MCP_GRAFANA_URL", ""))
            c.expect(h == "grafana-mcp" and p == 8000, f"{r}: MCP_GRAFANA_URL is not http://grafana-mcp:8000")

    # depends_on: known services; service_healthy only where a healthcheck exists.
    for n, s in services.items():
        deps = s.get("depends_on") or {}
        if isinstance(deps, list):
            deps = {d: {"condition": "service_started"} for d in deps}
        for d, spec in deps.items():
            if not c.expect(d in services, f"service {n} depends on unknown service {d}"):
                continue
            cond = (spec or {}).get("condition", "service_started")
            if cond == "service_healthy":
                c.expect(services[d].get("healthcheck"), f"service {n} waits for {d} to be healthy, but {d} has no healthcheck")
            # A default-start service cannot wait on one that only starts with a profile.
            if not s.get("profiles"):
                c.expect(not services[d].get("profiles"), f"service {n} starts by default but depends on {d}, which is only in profile(s) {services[d].get('profiles')}")
    # Healthchecks run only what the image has. Images without a shell, with the binaries
    # they do have and where that was read (the image's upstream Dockerfile at its tag).
    for n, s in services.items():
        img = (s.get("image") or "").split(":")[0]
        spec = IMAGES_WITHOUT_SHELL.get(img)
        test = (s.get("healthcheck") or {}).get("test") or []
        if not spec or not test:
            continue
        c.expect(isinstance(test, list) and test[:1] == ["CMD"],
                 f"service {n}: image {img} has no shell ({spec['source']}), so its healthcheck must be exec form [CMD, ...]: {test}")
        if isinstance(test, list) and len(test) > 1 and test[0] == "CMD":
            c.expect(test[1] in spec["binaries"],
                     f"service {n}: healthcheck runs {test[1]}, which image {img} does not have (it has {', '.join(spec['binaries'])})")
    # Loop roles and APIs wait for what they need.
    for role, needs in (("customer", "kafka"), ("supplier", "kafka"), ("ordercheck", "kafka"),
                        ("suppliercheck", "kafka"), ("order", "postgres"), ("stock", "postgres"),
                        ("ordercheck", "order"), ("suppliercheck", "stock")):
        if role in seen:
            deps = services[seen[role]].get("depends_on") or {}
            c.expect(isinstance(deps, dict) and (deps.get(needs) or {}).get("condition") == "service_healthy",
                     f"service {seen[role]} does not wait for {needs} to be healthy")

    # Published ports (Appendix A).
    published = {}
    for n, s in services.items():
        for p in s.get("ports") or []:
            host, cont = parse_port(p)
            c.expect(host not in published, f"host port {host} published twice ({published.get(host)}, {n})")
            published[host] = (n, cont)
    for host, (svc, cont) in PUBLISHED.items():
        c.expect(published.get(host) == (svc, cont), f"host port {host} should be {svc}:{cont}, is {published.get(host)}")
    for host in published:
        c.expect(host in PUBLISHED, f"host port {host} ({published[host][0]}) is not in the port table")

    # Volumes: named ones declared, bind mounts exist, Kafka writes into its volume.
    for n, s in services.items():
        for v in s.get("volumes") or []:
            src, _, rest = str(v).partition(":")
            dst = rest.split(":")[0]
            if src.startswith((".", "/")):
                c.expect(os.path.exists(c.path(src)), f"service {n} mounts {src}, which does not exist")
            else:
                c.expect(src in declared_volumes, f"service {n} uses volume {src}, not declared under volumes:")
                c.expect(dst.startswith("/") and not dst.startswith("/tmp"), f"service {n}: volume {src} mounted at {dst}")
    k = services.get("kafka", {})
    ke = env_of(k)
    logdirs = ke.get("KAFKA_LOG_DIRS", "")
    kvols = {str(v).split(":")[1] for v in k.get("volumes") or [] if not str(v).startswith((".", "/"))}
    c.expect(logdirs and all(d in kvols for d in logdirs.split(",")),
             f"kafka: KAFKA_LOG_DIRS '{logdirs}' is not a mounted named volume ({sorted(kvols)})")
    c.expect("KAFKA_PROCESS_ROLES" in ke and "controller" in ke["KAFKA_PROCESS_ROLES"], "kafka is not in KRaft mode")

    # Secrets come from .env, not from the file.
    m = re.search(r"GRAFANA_SERVICE_ACCOUNT_TOKEN:\s*(\S+)", raw)
    c.expect(m and m.group(1).startswith("${GRAFANA_SERVICE_ACCOUNT_TOKEN"), "GRAFANA_SERVICE_ACCOUNT_TOKEN is not taken from .env")
    m = re.search(r"POSTGRES_PASSWORD:\s*(\S+)", raw)
    c.expect(m and m.group(1).startswith("${POSTGRES_PASSWORD"), "POSTGRES_PASSWORD is not taken from .env")


# ----------------------------------------------------------------------------- role settings
def free_port():
    with socket.socket() as so:
        so.bind(("127.0.0.1", 0))
        return so.getsockname()[1]


def check_roleenv(c):
    """Each woodctl service's environment, as compose resolves it with .env.example, passes
    the role's own settings check: the binary would otherwise exit 2 at start and the
    container would restart forever. PORT/ADMIN_PORT are swapped for free ports and the
    server binds to loopback, so nothing here collides with other test suites."""
    woodctl = os.environ.get("WOODCTL")
    if not c.expect(woodctl and os.access(woodctl, os.X_OK), "WOODCTL is not set to the binary"):
        return
    doc = c.load_yaml("docker-compose.yml") or {}
    env = env_example(c.root)
    services = resolve(doc.get("services") or {}, env)
    procs = []
    for name, s in services.items():
        if "build" not in s:
            continue
        cmd = s.get("command") or []
        e = env_of(s)
        for k in ("PORT", "ADMIN_PORT"):
            if k in e:
                e[k] = str(free_port())
        e["HTTP_LISTEN"] = "127.0.0.1"
        e["PATH"] = "/usr/bin:/bin"
        out = tempfile.TemporaryFile()
        p = subprocess.Popen([woodctl] + list(cmd), env=e, stdout=out, stderr=subprocess.STDOUT)
        procs.append((name, cmd, p, out))
    # All at once: a role that keeps running after 3 s got past its settings check.
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline and any(p.poll() is None for _, _, p, _ in procs):
        time.sleep(0.05)
    for name, cmd, p, out in procs:
        if p.poll() is None:
            p.terminate()
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        out.seek(0)
        text = out.read().decode(errors="replace")
        bad = p.returncode == 2 and ("bad setting" in text or "cannot parse" in text)
        c.expect(not bad, f"service {name}: woodctl {' '.join(cmd)} rejects its compose environment: "
                 + " | ".join(text.strip().splitlines()[:4]))
    ran = len(procs)
    c.expect(ran >= len(ROLES), f"only {ran} woodctl services were tried")


# Settings compose sets before the core that reads them is in the binary (telemetry core,
# Kafka core, the loop roles' admin port). Allowed only while no role documents them; once
# one does, every service setting it must be a role that reads it.
PENDING_SETTINGS = {"OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_PROTOCOL",
                    "OTEL_RESOURCE_ATTRIBUTES", "OTEL_PROPAGATORS", "OTEL_METRIC_EXPORT_INTERVAL",
                    "OTEL_SERVICE_NAME", "KAFKA_BOOTSTRAP_SERVERS", "ADMIN_PORT"}


def check_settings(c):
    """Every variable compose sets for a woodctl service is a setting `woodctl help ROLE`
    documents for that role (typos and misplaced variables are silently ignored by the
    binary, so only this finds them)."""
    woodctl = os.environ.get("WOODCTL")
    if not c.expect(woodctl and os.access(woodctl, os.X_OK), "WOODCTL is not set to the binary"):
        return
    doc = c.load_yaml("docker-compose.yml") or {}
    services = resolve(doc.get("services") or {}, env_example(c.root))
    documented, anywhere = {}, set()
    for name, s in services.items():
        if "build" not in s or not s.get("command"):
            continue
        role = s["command"][0]
        if role not in documented:
            h = subprocess.run([woodctl, "help", role], capture_output=True, text=True).stdout
            documented[role] = set(re.findall(r"^  ([A-Z][A-Z0-9_]+) ", h, re.M))
            anywhere |= documented[role]
    pending = set()
    for name, s in services.items():
        if "build" not in s or not s.get("command"):
            continue
        role = s["command"][0]
        for k in env_of(s):
            if k in documented[role]:
                c.expect(True, "")
            elif k in PENDING_SETTINGS and k not in anywhere:
                pending.add(k)
            else:
                c.expect(False, f"service {name} sets {k}, which `woodctl help {role}` does not list")
    if pending:
        print(f"note {c.name}: not yet documented by any role (allowed): {' '.join(sorted(pending))}")


# ----------------------------------------------------------------------------- .env.example
def check_env(c):
    raw = open(c.path("docker-compose.yml")).read()
    try:
        env = env_example(c.root)
    except OSError as e:
        c.expect(False, f".env.example: {e}")
        return
    used = {}
    for m in VAR_RE.finditer(raw):
        name, op = m.group(1), m.group(2)
        has_default = op in (":-", "-")
        used[name] = used.get(name, False) or not has_default
    c.expect(used, "docker-compose.yml uses no variables")
    for name, required in sorted(used.items()):
        c.expect(name in env, f".env.example does not define {name}, used by docker-compose.yml")
        if required:
            c.expect(env.get(name), f".env.example leaves {name} empty; docker-compose.yml has no default for it")
    for name in env:
        c.expect(name in used, f".env.example defines {name}, which docker-compose.yml does not use")
    c.expect(".env" in [l.strip() for l in open(c.path(".gitignore"))], ".env is not in .gitignore")


# ----------------------------------------------------------------------------- dashboards
def metric_names_in(expr):
    """Metric names in a PromQL expression (identifiers followed by { or [ or ), not
    functions, keywords or label names)."""
    expr = re.sub(r'"(\\.|[^"\\])*"', '""', expr)          # drop string literals
    expr = re.sub(r"\{[^}]*\}", "{}", expr)                 # drop label matchers
    expr = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", expr)
    names = set()
    for m in re.finditer(r"\b([a-zA-Z_:][a-zA-Z0-9_:]*)\b(\s*\()?", expr):
        word, call = m.group(1), m.group(2)
        if call or word in ("by", "without", "on", "ignoring", "bool", "offset", "and", "or", "unless", "le"):
            continue
        if re.fullmatch(r"\d.*", word) or word.startswith("__") or word.startswith("$"):
            continue
        if expr[max(0, m.start() - 1)] == "$":
            continue
        names.add(word)
    return names


def check_dashboards(c):
    prov = c.load_yaml("deploy/grafana/provisioning/datasources/woodctl.yaml") or {}
    ds = {d.get("uid"): d.get("type") for d in prov.get("datasources") or []}
    c.expect(ds, "no provisioned datasources")
    names_file = c.path("deploy/grafana/metric-names.txt")
    listed = [l.strip() for l in open(names_file) if l.strip() and not l.startswith("#")]
    c.expect(len(listed) == len(set(listed)), "metric-names.txt lists a name twice")
    for n in listed:
        c.expect(re.fullmatch(r"[a-z_][a-z0-9_]*", n), f"metric-names.txt: '{n}' is not a metric name")
    used_names = set()
    uids, titles = {}, {}
    ddir = c.path("deploy/grafana/dashboards")
    files = sorted(f for f in os.listdir(ddir) if f.endswith(".json"))
    c.expect(len(files) >= 4, f"only {len(files)} dashboards")
    for fn in files:
        try:
            d = json.load(open(os.path.join(ddir, fn)))
        except ValueError as e:
            c.expect(False, f"{fn}: not valid JSON: {e}")
            continue
        for k in ("uid", "title", "panels", "schemaVersion"):
            c.expect(k in d, f"{fn}: no {k}")
        c.expect(isinstance(d.get("schemaVersion"), int) and d["schemaVersion"] >= 39, f"{fn}: schemaVersion {d.get('schemaVersion')} < 39")
        uid = d.get("uid")
        c.expect(isinstance(uid, str) and re.fullmatch(r"[A-Za-z0-9_-]{1,40}", uid or ""), f"{fn}: bad uid {uid!r}")
        c.expect(uid not in uids, f"{fn}: uid {uid} also used by {uids.get(uid)}")
        uids[uid] = fn
        c.expect(d.get("title") not in titles, f"{fn}: title also used by {titles.get(d.get('title'))}")
        titles[d.get("title")] = fn
        var_names = {v.get("name") for v in (d.get("templating") or {}).get("list") or []}
        for v in (d.get("templating") or {}).get("list") or []:
            vds = v.get("datasource")
            if isinstance(vds, dict):
                c.expect(vds.get("uid") in ds, f"{fn}: variable {v.get('name')} uses unknown datasource {vds.get('uid')}")
        panel_ids = set()
        for p in d.get("panels") or []:
            pid = p.get("id")
            c.expect(pid not in panel_ids, f"{fn}: panel id {pid} twice")
            panel_ids.add(pid)
            if p.get("type") == "row":
                continue
            gp = p.get("gridPos") or {}
            c.expect(all(k in gp for k in "hwxy") and gp.get("x", 0) + gp.get("w", 0) <= 24, f"{fn}: panel '{p.get('title')}' has a bad gridPos {gp}")
            pds = p.get("datasource") or {}
            c.expect(pds.get("uid") in ds, f"{fn}: panel '{p.get('title')}' uses unknown datasource uid {pds.get('uid')}")
            c.expect(not pds.get("type") or ds.get(pds.get("uid")) == pds.get("type"),
                     f"{fn}: panel '{p.get('title')}' datasource type {pds.get('type')} != provisioned {ds.get(pds.get('uid'))}")
            c.expect(p.get("targets"), f"{fn}: panel '{p.get('title')}' has no query")
            for t in p.get("targets") or []:
                tds = (t.get("datasource") or pds).get("uid")
                c.expect(tds in ds, f"{fn}: a query of '{p.get('title')}' uses unknown datasource uid {tds}")
                expr = t.get("expr") or t.get("rawSql") or ""
                c.expect(expr.strip(), f"{fn}: panel '{p.get('title')}' has an empty query")
                for var in re.findall(r"\$(?:\{)?([A-Za-z_][A-Za-z0-9_]*)", expr):
                    c.expect(var.startswith("__") or var in var_names, f"{fn}: '{p.get('title')}' uses undefined variable ${var}")
                if ds.get(tds) == "prometheus":
                    c.expect(expr.count("(") == expr.count(")") and expr.count("{") == expr.count("}"),
                             f"{fn}: '{p.get('title')}': unbalanced brackets in {expr}")
                    for n in metric_names_in(expr):
                        used_names.add(n)
                        c.expect(n in listed or TEMPO_METRIC.match(n),
                                 f"{fn}: '{p.get('title')}' queries {n}, which is not in metric-names.txt")
                if ds.get(tds) == "loki":
                    c.expect(re.search(r'\{[^}]*service_name', expr), f"{fn}: '{p.get('title')}': Loki query not by service_name: {expr}")
    for n in listed:
        c.expect(n in used_names, f"metric-names.txt lists {n}, which no dashboard queries")
    # The provider loads the folder the compose file mounts.
    dp = c.load_yaml("deploy/grafana/provisioning/dashboards/woodctl.yaml") or {}
    paths = [(p.get("options") or {}).get("path") for p in dp.get("providers") or []]
    compose = open(c.path("docker-compose.yml")).read()
    for p in paths:
        c.expect(p and f"./deploy/grafana/dashboards:{p}" in compose, f"dashboard provider path {p} is not where docker-compose.yml mounts deploy/grafana/dashboards")


# ----------------------------------------------------------------------------- backends
def check_backends(c):
    col = c.load_yaml("deploy/otel-collector.yaml") or {}
    recv, procs, exps = col.get("receivers") or {}, col.get("processors") or {}, col.get("exporters") or {}
    exts = col.get("extensions") or {}
    svc = col.get("service") or {}
    pipes = svc.get("pipelines") or {}
    http = ((recv.get("otlp") or {}).get("protocols") or {}).get("http") or {}
    grpc = ((recv.get("otlp") or {}).get("protocols") or {}).get("grpc") or {}
    c.expect(str(http.get("endpoint", "")).endswith(":4318"), "collector: OTLP/HTTP receiver is not on :4318")
    c.expect(str(grpc.get("endpoint", "")).endswith(":4317"), "collector: OTLP/gRPC receiver is not on :4317")
    for e in svc.get("extensions") or []:
        c.expect(e in exts, f"collector: service uses undefined extension {e}")
    want = {"traces": "tempo", "metrics": "mimir", "logs": "loki"}
    for sig, backend in want.items():
        p = pipes.get(sig)
        if not c.expect(p, f"collector: no {sig} pipeline"):
            continue
        for r in p.get("receivers") or []:
            c.expect(r in recv, f"collector: {sig} pipeline uses undefined receiver {r}")
        for pr in p.get("processors") or []:
            c.expect(pr in procs, f"collector: {sig} pipeline uses undefined processor {pr}")
        c.expect(p.get("exporters"), f"collector: {sig} pipeline has no exporter")
        for ex in p.get("exporters") or []:
            c.expect(ex in exps, f"collector: {sig} pipeline uses undefined exporter {ex}")
        eps = [str((exps.get(ex) or {}).get("endpoint", "")) for ex in p.get("exporters") or []]
        c.expect(any(backend in e for e in eps), f"collector: {sig} pipeline does not export to {backend}: {eps}")
    for ex, cfg in exps.items():
        ep = str((cfg or {}).get("endpoint", ""))
        if "loki" in ep:
            c.expect(ep.rstrip("/") == "http://loki:3100/otlp", f"collector: Loki exporter endpoint {ep} is not http://loki:3100/otlp")
        if "mimir" in ep:
            c.expect(ep.rstrip("/") == "http://mimir:9009/otlp", f"collector: Mimir exporter endpoint {ep} is not http://mimir:9009/otlp")
    for n, cfg in list(recv.items()) + list(exps.items()) + list(procs.items()):
        c.expect(n in [x for p in pipes.values() for k in ("receivers", "processors", "exporters") for x in p.get(k) or []],
                 f"collector: component {n} is defined but in no pipeline")

    loki = c.load_yaml("deploy/loki.yaml") or {}
    c.expect((loki.get("server") or {}).get("http_listen_port") == 3100, "loki: not on port 3100")
    c.expect(loki.get("auth_enabled") is False, "loki: auth_enabled must be false (single tenant)")
    lim = loki.get("limits_config") or {}
    c.expect(lim.get("allow_structured_metadata") is True, "loki: OTLP ingestion needs allow_structured_metadata")
    schemas = (loki.get("schema_config") or {}).get("configs") or []
    c.expect(schemas and schemas[-1].get("schema") == "v13" and schemas[-1].get("store") == "tsdb", "loki: last schema is not v13/tsdb (needed for structured metadata)")
    c.expect(str((loki.get("common") or {}).get("path_prefix", "")).startswith("/loki"), "loki: data is not under /loki (the loki-data volume)")

    mimir = c.load_yaml("deploy/mimir.yaml") or {}
    c.expect((mimir.get("server") or {}).get("http_listen_port") == 9009, "mimir: not on port 9009")
    ml = mimir.get("limits") or {}
    c.expect(ml.get("otel_metric_suffixes_enabled") is True, "mimir: otel_metric_suffixes_enabled must be true (dashboards use _seconds/_total names)")
    c.expect((ml.get("max_global_exemplars_per_user") or 0) > 0, "mimir: exemplars are off")
    c.expect(isinstance(ml.get("promote_otel_resource_attributes", ""), str), "mimir: promote_otel_resource_attributes must be a comma-separated string")
    c.expect("service.name" in str(ml.get("promote_otel_resource_attributes", "")), "mimir: service.name is not promoted (dashboards use service_name)")
    for k in ("blocks_storage", "ingester", "distributor"):
        c.expect(k in mimir, f"mimir: no {k} section")
    dirs = json.dumps(mimir)
    c.expect("/tmp/" not in dirs, "mimir: writes under /tmp instead of the mimir-data volume")

    tempo = c.load_yaml("deploy/tempo.yaml") or {}
    c.expect((tempo.get("server") or {}).get("http_listen_port") == 3200, "tempo: not on port 3200")
    tr = (((tempo.get("distributor") or {}).get("receivers") or {}).get("otlp") or {}).get("protocols") or {}
    c.expect(str((tr.get("grpc") or {}).get("endpoint", "")).endswith(":4317"), "tempo: no OTLP gRPC receiver on :4317 (the collector exports there)")
    ret = str(((tempo.get("compactor") or {}).get("compaction") or {}).get("block_retention", ""))
    m = re.fullmatch(r"(\d+)(h|m)", ret)
    c.expect(m and (int(m.group(1)) * (60 if m.group(2) == "h" else 1)) > 60, f"tempo: block_retention '{ret}' is not longer than an hour")
    mg = tempo.get("metrics_generator") or {}
    rw = ((mg.get("storage") or {}).get("remote_write") or [{}])
    c.expect(any(r.get("url") == "http://mimir:9009/api/v1/push" and r.get("send_exemplars") is True for r in rw),
             "tempo: metrics generator does not remote-write to Mimir with exemplars")
    procs_on = (((tempo.get("overrides") or {}).get("defaults") or {}).get("metrics_generator") or {}).get("processors") or []
    for p in ("service-graphs", "span-metrics"):
        c.expect(p in procs_on, f"tempo: metrics generator processor {p} is not enabled")
    c.expect("/tmp/" not in json.dumps(tempo), "tempo: writes under /tmp instead of the tempo-data volume")

    # Grafana datasources: links that match what woodctl emits.
    prov = c.load_yaml("deploy/grafana/provisioning/datasources/woodctl.yaml") or {}
    byuid = {d.get("uid"): d for d in prov.get("datasources") or []}
    for uid, typ, url in (("mimir", "prometheus", "http://mimir:9009/prometheus"),
                          ("loki", "loki", "http://loki:3100"), ("tempo", "tempo", "http://tempo:3200")):
        d = byuid.get(uid) or {}
        c.expect(d.get("type") == typ and d.get("url") == url, f"datasource {uid}: type/url {d.get('type')} {d.get('url')}")
    tj = (byuid.get("tempo") or {}).get("jsonData") or {}
    t2l = tj.get("tracesToLogsV2") or {}
    c.expect(t2l.get("datasourceUid") == "loki" and t2l.get("filterByTraceID") is True, "tempo: tracesToLogsV2 does not go to loki by trace id")
    c.expect(any(t.get("key") == "service.name" and t.get("value") == "service_name" for t in t2l.get("tags") or []),
             "tempo: tracesToLogsV2 does not map service.name to Loki's service_name label")
    if t2l.get("customQuery"):
        c.expect('trace_id="$${__trace.traceId}"' in t2l.get("query", ""), "tempo: custom logs query does not filter on the trace_id field")
    c.expect((tj.get("tracesToMetrics") or {}).get("datasourceUid") == "mimir", "tempo: tracesToMetrics does not go to mimir")
    c.expect((tj.get("serviceMap") or {}).get("datasourceUid") == "mimir", "tempo: serviceMap does not use mimir")
    ex = ((byuid.get("mimir") or {}).get("jsonData") or {}).get("exemplarTraceIdDestinations") or []
    c.expect(any(e.get("name") == "trace_id" and e.get("datasourceUid") == "tempo" for e in ex), "mimir: exemplar trace_id does not link to tempo")
    df = ((byuid.get("loki") or {}).get("jsonData") or {}).get("derivedFields") or []
    c.expect(any(f.get("datasourceUid") == "tempo" and f.get("matcherType") == "label" and f.get("matcherRegex") == "trace_id" for f in df),
             "loki: no derived field from the trace_id structured metadata to tempo")
    for d in prov.get("datasources") or []:
        for k, v in (d.get("secureJsonData") or {}).items():
            c.expect(str(v).startswith("$"), f"datasource {d.get('uid')}: secureJsonData.{k} is written in the file, not taken from the environment")


# ----------------------------------------------------------------------------- Dockerfile
def check_dockerfile(c):
    try:
        lines = open(c.path("deploy/Dockerfile")).read().splitlines()
    except OSError as e:
        c.expect(False, f"deploy/Dockerfile: {e}")
        return
    for l in lines:
        if re.match(r"#\s*syntax\s*=", l):
            c.expect("@sha256:" in l, f"Dockerfile frontend '{l}' is not pinned by digest (a floating tag)")
    # Join continuation lines, drop comments.
    instr, cur = [], ""
    for l in lines:
        if not cur and l.strip().startswith("#"):
            continue
        cur += l.rstrip("\\").rstrip() + " " if l.rstrip().endswith("\\") else l
        if not l.rstrip().endswith("\\"):
            if cur.strip():
                instr.append(cur.strip())
            cur = ""
    stages = [i for i, s in enumerate(instr) if s.upper().startswith("FROM ")]
    c.expect(len(stages) >= 2, "Dockerfile is not multi-stage")
    if not stages:
        return
    first = instr[stages[0]].split()
    c.expect(re.match(r"debian:(12[.\d]*-slim|12[.\d]*|bookworm-\d{8}(-slim)?)$", first[1]), f"build stage FROM {first[1]} is not a pinned Debian 12 tag")
    build = instr[stages[0]:stages[-1]]
    body = " ".join(build)
    c.expect("deploy/deps.sh" in body, "build stage does not install dependencies with deploy/deps.sh")
    c.expect(re.search(r"make\b[^&]*\bstatic\b", body), "build stage does not run make static")
    final = instr[stages[-1]:]
    c.expect(final[0].split()[1] == "scratch", f"final stage is FROM {final[0].split()[1]}, not scratch")
    users = [s.split()[1] for s in final if s.upper().startswith("USER ")]
    c.expect(users and users[-1].split(":")[0] not in ("0", "root"), f"final stage does not switch to a non-root user: {users}")
    ep = [s for s in final if s.upper().startswith("ENTRYPOINT ")]
    c.expect(ep and json.loads(ep[-1].split(None, 1)[1]) == ["/woodctl"], "ENTRYPOINT is not [\"/woodctl\"]")
    c.expect(not any(s.upper().startswith(("RUN ", "ADD ")) for s in final), "final stage has RUN/ADD (a scratch image has no shell)")
    copies = [s for s in final if s.upper().startswith("COPY ")]
    c.expect(copies and all("--from=" in s for s in copies), "final stage copies files that were not built in the build stage")
    # What the final stage copies is assembled by deploy/rootfs.sh from the stripped binary.
    c.expect(re.search(r"deploy/rootfs\.sh\s+(\S+)\s+build/static/woodctl\.stripped", body), "build stage does not assemble the root with deploy/rootfs.sh from build/static/woodctl.stripped")
    m = re.search(r"deploy/rootfs\.sh\s+(\S+)", body)
    if m:
        c.expect(any(f"{m.group(1).rstrip('/')}/" in s or m.group(1) in s for s in copies), f"final stage does not copy {m.group(1)}")
    rootfs = open(c.path("deploy/rootfs.sh")).read()
    for needle in ('"$dir/woodctl"', "ca-certificates.crt", "/etc/passwd", "/etc/group", "10001"):
        c.expect(needle in rootfs, f"deploy/rootfs.sh does not provide {needle}")
    c.expect(re.search(r"USER\s+10001", "\n".join(final)), "final stage does not run as uid 10001 (the user rootfs.sh creates)")
    ign = [l.strip() for l in open(c.path(".dockerignore")) if l.strip() and not l.startswith("#")]
    for pat in ("build/", ".git/", "node_modules/"):
        c.expect(any(p.rstrip("/").endswith(pat.rstrip("/")) for p in ign), f".dockerignore does not exclude {pat}")


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    root, checks = argv[1], argv[2:]
    roles = set(ROLES)
    if "--roles" in checks:
        i = checks.index("--roles")
        roles = set(checks[i + 1].split())
        checks = checks[:i] + checks[i + 2:]
    ok = True
    for name in checks:
        c = Checker(root, name)
        fn = {"compose": lambda: check_compose(c, roles), "env": lambda: check_env(c),
              "roleenv": lambda: check_roleenv(c), "settings": lambda: check_settings(c),
              "dashboards": lambda: check_dashboards(c), "backends": lambda: check_backends(c),
              "dockerfile": lambda: check_dockerfile(c)}.get(name)
        if not fn:
            print(f"unknown check {name}", file=sys.stderr)
            return 2
        try:
            fn()
        except Exception as e:  # a crash in a check is a failure, with its cause
            c.expect(False, f"checker crashed: {type(e).__name__}: {e}")
        ok = c.report() and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
