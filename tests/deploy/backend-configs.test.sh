# The collector, Loki, Mimir and Tempo configurations and Grafana's datasources parse and
# say what the deployment relies on (their binaries cannot run here): collector pipelines
# for traces/metrics/logs built from defined components and exporting to Tempo, Mimir's
# /otlp and Loki's /otlp; structured metadata in Loki; suffixes and exemplars in Mimir;
# span metrics, service graphs, exemplars and more than an hour of retention in Tempo;
# trace <-> logs <-> metrics links on the fields woodctl emits.
. tests/lib/assert.sh
. tests/lib/deploy.sh
check . backends
expect_out '^ok backends: [0-9]+ assertions'
for f in deploy/otel-collector.yaml deploy/loki.yaml deploy/mimir.yaml deploy/tempo.yaml \
	deploy/grafana/provisioning/*/*.yaml; do
	"$PY" -c 'import sys, yaml; yaml.safe_load(open(sys.argv[1]))' "$f" || fail "$f does not parse"
done
C=deploy/otel-collector.yaml
mutate backends $C 's.replace("exporters: [otlp_http/loki]", "exporters: [otlp_http/lokki]")' 'logs pipeline uses undefined exporter otlp_http/lokki'
mutate backends $C 's.replace("    logs:\n      receivers: [otlp]", "    logz:\n      receivers: [otlp]")' 'no logs pipeline'
mutate backends $C 's.replace("endpoint: http://mimir:9009/otlp", "endpoint: http://mimir:9009/api/v1/push")' 'Mimir exporter endpoint .* is not http://mimir:9009/otlp'
mutate backends $C 's.replace("endpoint: 0.0.0.0:4318", "endpoint: 0.0.0.0:4319")' 'OTLP/HTTP receiver is not on :4318'
mutate backends deploy/tempo.yaml 's.replace("block_retention: 48h", "block_retention: 1h")' "block_retention '1h' is not longer than an hour"
mutate backends deploy/tempo.yaml 's.replace("send_exemplars: true", "send_exemplars: false")' 'remote-write to Mimir with exemplars'
mutate backends deploy/tempo.yaml 's.replace("[service-graphs, span-metrics, local-blocks]", "[span-metrics]")' 'processor service-graphs is not enabled'
mutate backends deploy/mimir.yaml 's.replace("otel_metric_suffixes_enabled: true", "otel_metric_suffixes_enabled: false")' 'otel_metric_suffixes_enabled must be true'
mutate backends deploy/loki.yaml 's.replace("allow_structured_metadata: true", "allow_structured_metadata: false")' 'needs allow_structured_metadata'
mutate backends deploy/mimir.yaml 's + "limits: [unclosed\n"' 'mimir.yaml: cannot load'
P=deploy/grafana/provisioning/datasources/woodctl.yaml
mutate backends $P 's.replace("filterByTraceID: true", "filterByTraceID: false")' 'tracesToLogsV2 does not go to loki by trace id'
mutate backends $P 's.replace("            value: service_name\n", "            value: application\n")' 'does not map service.name to Loki.s service_name'
mutate backends $P 's.replace("matcherRegex: trace_id\n", "matcherRegex: traceid\n")' 'no derived field from the trace_id structured metadata'
mutate backends $P 's.replace("password: $POSTGRES_READER_PASSWORD", "password: secret", 1)' 'secureJsonData.password is written in the file'
