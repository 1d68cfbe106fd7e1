#!/usr/bin/python3
"""metric_check.py - compares the dashboards' Mimir queries with real Prometheus output.

    metric_check.py ROOT SCRAPES...

ROOT is the repository (deploy/grafana/metric-names.txt, deploy/grafana/dashboards/*.json,
deploy/mimir.yaml); each SCRAPE is the text of one role's GET /metrics. Prints one line
per problem ("missing NAME", "NAME has no label L (used by DASHBOARD: ...)") and exits 1
if there is any, else prints "ok N names, M label uses" and exits 0.

What is checked:
- every name in metric-names.txt is a series name in some scrape;
- every label a dashboard query uses on one of those names (in a {selector}, a
  `by (...)` clause around it, label_values(NAME, L) or a {{legend}}) is a label of that
  name's series in some scrape, unless it comes from the resource: after Mimir's OTLP
  ingestion `job` (service.namespace/service.name) and `instance` (service.instance.id)
  are on every series, and a resource attribute shown in target_info (service_name) is
  on every series only if deploy/mimir.yaml promotes it (promote_otel_resource_attributes);
- every `label="value"` or `label=~"regex"` matcher (without a $variable) selects at least
  one real series (so the scrapes must come from a run that had errors and dead letters).
Names made by Tempo's metrics generator (traces_*) are not the roles' and are skipped.
"""
import glob
import json
import os
import re
import sys

# Labels only set on failures the real system cannot be made to show on demand (the
# embedded broker takes every message, so no send fails). Checked against the code
# instead: (file, call, attribute): every place in file that records the metric (call)
# must have the attribute in the attribute list it builds just before.
ONLY_ON_FAILURE = {
    ("messaging_client_sent_messages_total", "error_type"):
        ("src/kafka/kafka.c", "wd_metric_add(wd_kafka_m.sent,", 'WD_A_STR("error.type",'),
}


def recorded_with(path, call, attr):
    text = open(path).read()
    sites = [i for i in range(len(text)) if text.startswith(call, i)]
    # The attribute list is built in the statements right before the call.
    return bool(sites) and all(attr in text[max(0, i - 400):i] for i in sites)
ALWAYS = {"job", "instance"}  # made by Mimir's OTLP translation from the resource

SERIES = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')
SELECTOR = re.compile(r'([a-zA-Z_:][a-zA-Z0-9_:]*)\s*\{([^}]*)\}')
MATCHER = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"')
BY = re.compile(r'\b(?:by|without)\s*\(([^)]*)\)\s*\(')
LEGEND = re.compile(r'\{\{\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}')
LABEL_VALUES = re.compile(r'label_values\(\s*([a-zA-Z_:][a-zA-Z0-9_:]*)[^,]*,\s*([a-zA-Z_]\w*)\s*\)')


def names_list(root):
    out = []
    for line in open(os.path.join(root, "deploy/grafana/metric-names.txt")):
        line = line.strip()
        if line and not line.startswith("#"):
            out.append(line)
    return out


def scrape_labels(paths):
    """{series name: {label name: set of values}} over all scrapes."""
    seen = {}
    for p in paths:
        for line in open(p):
            if line.startswith("#"):
                continue
            m = SERIES.match(line)
            if not m:
                continue
            labels = seen.setdefault(m.group(1), {})
            for lab, val in LABEL.findall(m.group(2) or ""):
                labels.setdefault(lab, set()).add(val)
    return seen


def closing(s, i):
    """Index just past the parenthesis that closes the one opened at s[i]."""
    depth = 0
    for j in range(i, len(s)):
        if s[j] == "(":
            depth += 1
        elif s[j] == ")":
            depth -= 1
            if depth == 0:
                return j + 1
    return len(s)


def uses(expr, legend, known):
    """(metric, label, op, value) an expression relies on (op and value from a
    {selector}'s matcher, else None)."""
    out = set()
    mets = [n for n in re.findall(r'[a-zA-Z_:][a-zA-Z0-9_:]*', expr) if n in known]
    for m, body in SELECTOR.findall(expr):
        for lab, op, val in MATCHER.findall(body):
            out.add((m, lab, op, val))
    for b in BY.finditer(expr):
        inner = expr[b.end() - 1:closing(expr, b.end() - 1)]
        inner_mets = [n for n in re.findall(r'[a-zA-Z_:][a-zA-Z0-9_:]*', inner) if n in known]
        for lab in re.findall(r'[a-zA-Z_]\w*', b.group(1)):
            for m in inner_mets:
                out.add((m, lab, None, None))
    for m, lab in LABEL_VALUES.findall(expr):
        out.add((m, lab, None, None))
    for lab in LEGEND.findall(legend or ""):
        for m in mets:
            out.add((m, lab, None, None))
    return out


def promoted(root):
    text = open(os.path.join(root, "deploy/mimir.yaml")).read()
    m = re.search(r'^\s*promote_otel_resource_attributes:\s*"?([^"\n]*)"?', text, re.M)
    if not m:
        return set()
    return {a.strip().replace(".", "_") for a in m.group(1).split(",") if a.strip()}


def main():
    root, scrapes = sys.argv[1], sys.argv[2:]
    names = names_list(root)
    known = set(names)
    seen = scrape_labels(scrapes)
    resource = seen.get("target_info", {})
    promo = promoted(root)
    problems = []
    for n in names:
        if n not in seen:
            problems.append(f"missing {n}: listed in metric-names.txt, in no role's /metrics")
    checked = 0
    for path in sorted(glob.glob(os.path.join(root, "deploy/grafana/dashboards/*.json"))):
        dash = json.load(open(path))
        where = os.path.basename(path)
        queries = []
        for v in dash.get("templating", {}).get("list", []):
            if v.get("datasource", {}).get("uid") == "mimir":
                queries.append((v.get("query", ""), "", f"variable ${v['name']}"))
        for p in dash.get("panels", []):
            for t in p.get("targets", []):
                if t.get("datasource", {}).get("uid") == "mimir":
                    queries.append((t.get("expr", ""), t.get("legendFormat", ""),
                                    f"panel {p['title']!r}"))
        for expr, legend, what in queries:
            for m, lab, op, val in sorted(uses(expr, legend, known), key=str):
                if m.startswith("traces_") or m not in seen:
                    continue
                checked += 1
                if lab in seen[m]:
                    # A matcher that must select something (= or =~ with a fixed value)
                    # selects some real series: a value the role never writes is as
                    # wrong as a misspelt name.
                    if op in ("=", "=~") and "$" not in val and not any(
                            re.fullmatch(val if op == "=~" else re.escape(val), v)
                            for v in seen[m][lab]):
                        problems.append(f"{m}{{{lab}{op}\"{val}\"}} matches no series "
                                        f"({where}, {what}); values seen: "
                                        f"{', '.join(sorted(seen[m][lab]))}")
                    continue
                if lab in ALWAYS or lab == "__name__":
                    continue
                if lab in resource:
                    if lab in promo:
                        continue
                    problems.append(f"{m} has no label {lab} in Mimir ({where}, {what}): it is "
                                    f"a resource attribute (target_info) that deploy/mimir.yaml "
                                    f"does not promote")
                    continue
                if (m, lab) in ONLY_ON_FAILURE:
                    src, call, attr = ONLY_ON_FAILURE[(m, lab)]
                    if recorded_with(os.path.join(root, src), call, attr):
                        continue
                problems.append(f"{m} has no label {lab} ({where}, {what}); it has: "
                                f"{', '.join(sorted(seen[m])) or 'none'}")
    for p in problems:
        print(p)
    if problems:
        return 1
    print(f"ok {len(names)} names, {checked} label uses")
    return 0


if __name__ == "__main__":
    sys.exit(main())
