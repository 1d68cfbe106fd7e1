#!/usr/bin/python3
"""dashboards.py - writes the Grafana dashboards of the compose deployment.

    deploy/grafana/dashboards.py [DIR]     (default: deploy/grafana/dashboards)

The JSON files are committed and provisioned as they are; this script is how they are
edited (change it, run it, commit both). tests/deploy/dashboards.test.sh checks that the
committed JSON is exactly what this script writes, and that every metric name is listed
in deploy/grafana/metric-names.txt.
"""
import json
import os
import sys

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "dashboards")
MIMIR = {"type": "prometheus", "uid": "mimir"}
LOKI = {"type": "loki", "uid": "loki"}
ORDERS = {"type": "grafana-postgresql-datasource", "uid": "order-db"}
STOCK = {"type": "grafana-postgresql-datasource", "uid": "stock-db"}

class D:
    def __init__(self, uid, title, desc, tags):
        self.uid, self.title, self.desc, self.tags = uid, title, desc, tags
        self.panels, self.vars, self.y, self.id = [], [], 0, 0
        self.x = 0
        self.rowh = 0
    def row(self, title):
        self.newline()
        self.id += 1
        self.panels.append({"id": self.id, "type": "row", "title": title, "collapsed": False,
                            "gridPos": {"h": 1, "w": 24, "x": 0, "y": self.y}, "panels": []})
        self.y += 1
    def newline(self):
        if self.x:
            self.y += self.rowh
            self.x, self.rowh = 0, 0
    def panel(self, ptype, title, ds, targets, w=12, h=8, desc="", unit=None, extra=None,
              options=None, fieldConfig=None):
        if self.x + w > 24:
            self.newline()
        self.id += 1
        tg = []
        for i, t in enumerate(targets):
            t = dict(t)
            t.setdefault("refId", chr(65 + i))
            t["datasource"] = ds
            tg.append(t)
        p = {"id": self.id, "type": ptype, "title": title, "description": desc, "datasource": ds,
             "gridPos": {"h": h, "w": w, "x": self.x, "y": self.y}, "targets": tg,
             "fieldConfig": fieldConfig or {"defaults": {}, "overrides": []},
             "options": options or {}}
        if unit:
            p["fieldConfig"]["defaults"]["unit"] = unit
        if extra:
            p.update(extra)
        self.panels.append(p)
        self.x += w
        self.rowh = max(self.rowh, h)
        if self.x >= 24:
            self.newline()
    def var(self, v):
        self.vars.append(v)
    def dump(self, fname):
        d = {"uid": self.uid, "title": self.title, "description": self.desc, "tags": self.tags,
             "editable": False, "graphTooltip": 1, "schemaVersion": 39, "version": 1,
             "time": {"from": "now-1h", "to": "now"}, "refresh": "30s", "timezone": "browser",
             "fiscalYearStartMonth": 0, "liveNow": False, "weekStart": "",
             "timepicker": {}, "annotations": {"list": []},
             "links": [{"type": "dashboards", "tags": ["woodctl"], "asDropdown": True,
                        "title": "woodctl dashboards", "includeVars": False, "keepTime": True}],
             "templating": {"list": self.vars}, "panels": self.panels}
        with open(os.path.join(OUT, fname), 'w') as f:
            json.dump(d, f, indent=2)
            f.write('\n')

def prom(expr, legend="__auto", exemplar=False, instant=False):
    t = {"expr": expr, "legendFormat": legend, "range": not instant, "instant": instant,
         "editorMode": "code"}
    if exemplar:
        t["exemplar"] = True
    return t

def loki(expr, legend="__auto", qtype="range"):
    return {"expr": expr, "legendFormat": legend, "queryType": qtype, "editorMode": "code"}

def sql(q):
    return {"rawSql": q, "format": "table", "rawQuery": True, "editorMode": "code"}

def prom_var(name, label, query, regex=""):
    return {"name": name, "label": label, "type": "query", "datasource": MIMIR,
            "query": query,
            "definition": query, "refresh": 2, "includeAll": True, "multi": True,
            "allValue": ".+", "current": {"selected": True, "text": ["All"], "value": ["$__all"]},
            "sort": 1, "regex": regex, "options": [], "hide": 0}

TS = {"drawStyle": "line", "lineWidth": 1, "fillOpacity": 10, "showPoints": "never",
      "spanNulls": False}
def tsfc(unit=None, stack=False, minv=None):
    d = {"custom": dict(TS, stacking={"mode": "normal" if stack else "none", "group": "A"}),
         "color": {"mode": "palette-classic"}}
    if unit: d["unit"] = unit
    if minv is not None: d["min"] = minv
    return {"defaults": d, "overrides": []}
TSOPT = {"legend": {"displayMode": "table", "placement": "right", "showLegend": True,
                    "calcs": ["mean", "max"]}, "tooltip": {"mode": "multi", "sort": "desc"}}

RI = "$__rate_interval"
HS = 'http_server_request_duration_seconds'
SEL = 'service_name=~"$service"'

# ---- 1. RED ----
d = D("woodctl-red", "woodctl / RED per service",
      "Rate, errors and duration of every woodctl HTTP server (order, stock, the agents, the "
      "admin ports), from the semantic-convention histogram http.server.request.duration "
      "(Mimir: http_server_request_duration_seconds_*). Latency panels show exemplars: click "
      "one to open its trace in Tempo.", ["woodctl", "red"])
d.var(prom_var("service", "service", f'label_values({HS}_count, service_name)'))
d.row("Requests")
d.panel("timeseries", "Request rate", MIMIR,
        [prom(f'sum by (service_name) (rate({HS}_count{{{SEL}}}[{RI}]))', "{{service_name}}")],
        unit="reqps", fieldConfig=tsfc("reqps"), options=TSOPT,
        desc="Requests per second answered, per service.")
d.panel("timeseries", "Error rate (5xx share)", MIMIR,
        [prom(f'sum by (service_name) (rate({HS}_count{{{SEL}, http_response_status_code=~"5.."}}[{RI}]))'
              f' / sum by (service_name) (rate({HS}_count{{{SEL}}}[{RI}]))', "{{service_name}}")],
        fieldConfig=tsfc("percentunit", minv=0), options=TSOPT,
        desc="Share of requests answered with a 5xx status (simulated failures included).")
d.row("Duration")
for q, w in (("0.50", 8), ("0.95", 8), ("0.99", 8)):
    d.panel("timeseries", f"p{q[2:]} latency", MIMIR,
            [prom(f'histogram_quantile({q}, sum by (le, service_name) (rate({HS}_bucket{{{SEL}}}[{RI}])))',
                  "{{service_name}}", exemplar=True)],
            w=w, fieldConfig=tsfc("s", minv=0), options=TSOPT,
            desc=f"{q} quantile of server request duration, per service, with exemplars.")
d.row("Routes")
d.panel("timeseries", "Requests by route and status", MIMIR,
        [prom(f'sum by (service_name, http_request_method, http_route, http_response_status_code) '
              f'(rate({HS}_count{{{SEL}}}[{RI}]))',
              "{{service_name}} {{http_request_method}} {{http_route}} {{http_response_status_code}}")],
        w=24, h=9, fieldConfig=tsfc("reqps"), options=TSOPT)
d.panel("timeseries", "p95 latency by route", MIMIR,
        [prom(f'histogram_quantile(0.95, sum by (le, service_name, http_request_method, http_route) '
              f'(rate({HS}_bucket{{{SEL}}}[{RI}])))',
              "{{service_name}} {{http_request_method}} {{http_route}}", exemplar=True)],
        w=12, h=9, fieldConfig=tsfc("s", minv=0), options=TSOPT)
d.panel("timeseries", "Mean duration by route", MIMIR,
        [prom(f'sum by (service_name, http_route) (rate({HS}_sum{{{SEL}}}[{RI}])) / '
              f'sum by (service_name, http_route) (rate({HS}_count{{{SEL}}}[{RI}]))',
              "{{service_name}} {{http_route}}")],
        w=12, h=9, fieldConfig=tsfc("s", minv=0), options=TSOPT)
d.row("All spans (Tempo span metrics: loops, consumers and producers too)")
d.panel("timeseries", "Span rate by service", MIMIR,
        [prom('sum by (service) (rate(traces_spanmetrics_calls_total{service=~"$service"}[$__rate_interval]))',
              "{{service}}")],
        fieldConfig=tsfc("ops"), options=TSOPT,
        desc="Every span kind, from Tempo's metrics generator; the service label is service.name.")
d.panel("timeseries", "Span error share by service", MIMIR,
        [prom('sum by (service) (rate(traces_spanmetrics_calls_total{service=~"$service", status_code="STATUS_CODE_ERROR"}[$__rate_interval]))'
              ' / sum by (service) (rate(traces_spanmetrics_calls_total{service=~"$service"}[$__rate_interval]))',
              "{{service}}")],
        fieldConfig=tsfc("percentunit", minv=0), options=TSOPT)
d.dump("red.json")

# ---- 2. Kafka ----
SENT = 'messaging_client_sent_messages_total'
CONS = 'messaging_client_consumed_messages_total'
LAG = 'messaging_kafka_consumer_lag'
DLQ = 'messaging_destination_name=~".+[.]dlq"'
NODLQ = 'messaging_destination_name!~".+[.]dlq"'
d = D("woodctl-kafka", "woodctl / Kafka flow",
      "Messages through Kafka: what the producers (customer, supplier) sent, what the consumers "
      "(ordercheck, suppliercheck) consumed, how far behind the consumer groups are, and what "
      "went to the dead-letter topics (*.dlq).", ["woodctl", "kafka"])
d.row("Flow")
d.panel("timeseries", "Sent per topic", MIMIR,
        [prom(f'sum by (messaging_destination_name) (rate({SENT}{{{NODLQ}}}[{RI}]))',
              "{{messaging_destination_name}}")],
        fieldConfig=tsfc("msg/s"), options=TSOPT,
        desc="messaging.client.sent.messages: messages handed to the broker, per topic.")
d.panel("timeseries", "Consumed per topic and group", MIMIR,
        [prom(f'sum by (messaging_destination_name, messaging_consumer_group_name) (rate({CONS}[{RI}]))',
              "{{messaging_destination_name}} / {{messaging_consumer_group_name}}")],
        fieldConfig=tsfc("msg/s"), options=TSOPT,
        desc="messaging.client.consumed.messages: messages delivered to the consumers.")
d.panel("timeseries", "Send failures", MIMIR,
        [prom(f'sum by (messaging_destination_name, error_type) (rate({SENT}{{error_type!=""}}[{RI}]))',
              "{{messaging_destination_name}} {{error_type}}")],
        fieldConfig=tsfc("msg/s"), options=TSOPT,
        desc="Sends that failed (error.type set).")
d.panel("timeseries", "Consumer lag", MIMIR,
        [prom(f'max by (messaging_destination_name, messaging_consumer_group_name) ({LAG})',
              "{{messaging_destination_name}} / {{messaging_consumer_group_name}}")],
        fieldConfig=tsfc("none", minv=0), options=TSOPT,
        desc="Messages not yet consumed (high watermark minus committed offset), per group.")
d.row("Dead letters")
d.panel("stat", "Dead letters in range", MIMIR,
        [prom(f'sum by (messaging_destination_name) (increase({SENT}{{{DLQ}}}[$__range]))',
              "{{messaging_destination_name}}", instant=True)],
        w=8, fieldConfig={"defaults": {"unit": "none", "decimals": 0,
                          "thresholds": {"mode": "absolute", "steps": [
                              {"color": "green", "value": None}, {"color": "red", "value": 1}]}},
                          "overrides": []},
        options={"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
                 "colorMode": "background", "graphMode": "none", "textMode": "value_and_name"},
        desc="Messages the consumers gave up on and published to orders.dlq / stocks.dlq.")
d.panel("timeseries", "Dead letters per topic", MIMIR,
        [prom(f'sum by (messaging_destination_name) (rate({SENT}{{{DLQ}}}[{RI}]))',
              "{{messaging_destination_name}}")],
        w=16, fieldConfig=tsfc("msg/s"), options=TSOPT)
d.panel("timeseries", "Consumed minus sent (backlog growth)", MIMIR,
        [prom(f'sum by (messaging_destination_name) (rate({SENT}{{{NODLQ}}}[{RI}])) - '
              f'sum by (messaging_destination_name) (rate({CONS}[{RI}]))',
              "{{messaging_destination_name}}")],
        w=24, fieldConfig=tsfc("msg/s"), options=TSOPT,
        desc="Positive: the topic grows faster than it is consumed.")
d.dump("kafka.json")

# ---- 3. Business ----
d = D("woodctl-business", "woodctl / Business",
      "Orders and stock: current state from PostgreSQL (order_db, stock_db, read-only user) and "
      "flows and failure rates from the roles' metrics.", ["woodctl", "business"])
d.row("State (PostgreSQL)")
d.panel("bargauge", "Orders by status", ORDERS,
        [sql("SELECT lower(order_status::text) AS status, count(*) AS orders\n"
             "FROM orders GROUP BY 1 ORDER BY 1")],
        fieldConfig={"defaults": {"unit": "none", "decimals": 0, "color": {"mode": "palette-classic"}},
                     "overrides": []},
        options={"orientation": "horizontal", "displayMode": "gradient",
                 "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": True},
                 "showUnfilled": True},
        desc="Rows of the orders table per order_status (registered, ready, blocked, ...).")
d.panel("bargauge", "Stock by wood type", STOCK,
        [sql("SELECT lower(wood_type::text) AS wood_type, quantity\n"
             "FROM stocks ORDER BY 1")],
        fieldConfig={"defaults": {"unit": "none", "decimals": 0, "color": {"mode": "palette-classic"}},
                     "overrides": []},
        options={"orientation": "horizontal", "displayMode": "gradient",
                 "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": True},
                 "showUnfilled": True},
        desc="Current quantity per wood type in the stocks table.")
d.row("Flow (metrics)")
d.panel("timeseries", "Orders created by wood type", MIMIR,
        [prom(f'sum by (wood_type) (rate(orders_created_total[{RI}]))', "{{wood_type}}")],
        w=8, fieldConfig=tsfc("ops", stack=True), options=TSOPT,
        desc="customer: orders handed to Kafka (orders.created).")
d.panel("timeseries", "Orders registered / managed", MIMIR,
        [prom(f'sum(rate(orders_processed_total[{RI}]))', "registered"),
         prom(f'sum by (result) (rate(orders_managed_total[{RI}]))', "{{result}}")],
        w=8, fieldConfig=tsfc("ops"), options=TSOPT,
        desc="ordercheck: orders registered through the API (orders.processed); "
             "ordermanagement: outcome per order (orders.managed{result}).")
d.panel("timeseries", "Stock deliveries by wood type", MIMIR,
        [prom(f'sum by (wood_type) (rate(stock_deliveries_created_total[{RI}]))', "{{wood_type}}"),
         prom(f'sum(rate(stock_deliveries_processed_total[{RI}]))', "recorded")],
        w=8, fieldConfig=tsfc("ops"), options=TSOPT,
        desc="supplier: deliveries sent (stock_deliveries.created); suppliercheck: recorded "
             "through the API (stock_deliveries.processed).")
d.row("Failure rates")
def ratio(bad, good):
    return f'sum(rate({bad}[{RI}])) / (sum(rate({bad}[{RI}])) + sum(rate({good}[{RI}])))'
d.panel("timeseries", "Failure share per step", MIMIR,
        [prom(ratio("orders_failed_total", "orders_created_total"), "customer: order not sent"),
         prom(ratio("orders_processing_errors_total", "orders_processed_total"), "ordercheck: order not registered"),
         prom(ratio("stock_deliveries_failed_total", "stock_deliveries_created_total"), "supplier: delivery not sent"),
         prom(ratio("stock_deliveries_processing_errors_total", "stock_deliveries_processed_total"), "suppliercheck: delivery not recorded"),
         prom(f'sum(rate(orders_managed_total{{result="error"}}[{RI}])) / sum(rate(orders_managed_total[{RI}]))',
              "ordermanagement: error")],
        w=16, h=9, fieldConfig=tsfc("percentunit", minv=0), options=TSOPT,
        desc="Failed / (failed + succeeded) per step; with ERROR_RATE=0.1 each hovers near 10 %.")
d.panel("stat", "Blocked share of managed orders", MIMIR,
        [prom(f'sum(increase(orders_managed_total{{result="blocked"}}[$__range])) / '
              f'sum(increase(orders_managed_total[$__range]))', "blocked", instant=True)],
        w=8, h=9, fieldConfig={"defaults": {"unit": "percentunit", "decimals": 1,
                               "thresholds": {"mode": "absolute", "steps": [
                                   {"color": "green", "value": None},
                                   {"color": "orange", "value": 0.25},
                                   {"color": "red", "value": 0.5}]}}, "overrides": []},
        options={"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
                 "colorMode": "background", "graphMode": "none"},
        desc="Orders marked blocked (not enough stock) among those the worker handled.")
d.dump("business.json")

# ---- 4. Logs ----
LSEL = 'service_name=~"$service"'
ERR = 'severity_text=~"(?i)(error|fatal|critical)"'
d = D("woodctl-logs", "woodctl / Logs and error rates",
      "OTLP log records in Loki: volume by severity, error rate per service, and the lines "
      "themselves. A line's trace_id field links to its trace in Tempo.", ["woodctl", "logs"])
d.var({"name": "service", "label": "service", "type": "query", "datasource": LOKI,
       "query": "label_values(service_name)", "definition": "label_values(service_name)",
       "refresh": 2, "includeAll": True, "multi": True, "allValue": ".+",
       "current": {"selected": True, "text": ["All"], "value": ["$__all"]}, "sort": 1,
       "regex": "", "options": [], "hide": 0})
d.var({"name": "severity", "label": "severity", "type": "custom",
       "query": "ERROR,WARNING,INFO,DEBUG", "includeAll": True, "multi": True, "allValue": ".*",
       "current": {"selected": True, "text": ["All"], "value": ["$__all"]},
       "options": [], "hide": 0})
d.row("Rates")
d.panel("timeseries", "Log lines by severity", LOKI,
        [loki(f'sum by (severity_text) (count_over_time({{{LSEL}}} [$__auto]))', "{{severity_text}}")],
        fieldConfig=tsfc("short", stack=True), options=TSOPT)
d.panel("timeseries", "Error lines per service", LOKI,
        [loki(f'sum by (service_name) (count_over_time({{{LSEL}}} | {ERR} [$__auto]))', "{{service_name}}")],
        fieldConfig=tsfc("short"), options=TSOPT,
        desc="Records with severity ERROR (or worse) per service.")
d.panel("timeseries", "Error share per service", LOKI,
        [loki(f'sum by (service_name) (count_over_time({{{LSEL}}} | {ERR} [$__auto])) / '
              f'sum by (service_name) (count_over_time({{{LSEL}}} [$__auto]))', "{{service_name}}")],
        w=24, fieldConfig=tsfc("percentunit", minv=0), options=TSOPT)
d.row("Lines")
d.panel("logs", "Log lines", LOKI,
        [loki(f'{{{LSEL}}} | severity_text=~"$severity"', "", qtype="range")],
        w=24, h=14,
        options={"showTime": True, "wrapLogMessage": True, "sortOrder": "Descending",
                 "enableLogDetails": True, "prettifyLogMessage": False, "dedupStrategy": "none",
                 "showCommonLabels": False, "showLabels": False})
d.dump("logs.json")
