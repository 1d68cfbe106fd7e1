# Every woodctl service's environment in docker-compose.yml (resolved with .env.example)
# is accepted by the role's own settings check: a value the binary rejects would make the
# container exit 2 and restart forever. Each role runs for at most 3 s on free loopback
# ports; reaching anything (Kafka, PostgreSQL, the collector) is not required.
. tests/lib/assert.sh
. tests/lib/deploy.sh
check . roleenv
expect_out '^ok roleenv: [0-9]+ assertions'
mutate roleenv docker-compose.yml 's.replace("ERROR_RATE: ${ERROR_RATE:-0.1}", "ERROR_RATE: ten")' "service (customer|order|stock|supplier|ordercheck|suppliercheck|ordermanagement): woodctl .* rejects its compose environment: .*ERROR_RATE"
mutate roleenv .env.example 's.replace("ERROR_RATE=0.1", "ERROR_RATE=1.5")' "rejects its compose environment: .*ERROR_RATE='1.5'"
mutate roleenv docker-compose.yml 's.replace("LOG_FORMAT: json", "LOG_FORMAT: jsonl")' "rejects its compose environment: .*LOG_FORMAT='jsonl'"
mutate roleenv docker-compose.yml 's.replace("API_URL_STOCKS: http://stock:5001", "API_URL_STOCKS: stock:5001")' "ordermanagement: .*API_URL_STOCKS='stock:5001'"
