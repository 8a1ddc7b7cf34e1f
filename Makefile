# wapipe: `make help` lists the targets. `make demo` and `make test` work on a fresh machine:
# they install and start a private ClickHouse (scripts/clickhouse.sh) when it is missing.
SHELL := /bin/bash
export PATH := /usr/local/go/bin:$(PATH)
CH_PORT ?= 19000
CH_ADDR := 127.0.0.1:$(CH_PORT)
export WAPIPE_CH_PORT := $(CH_PORT)
export WAPIPE_TEST_CLICKHOUSE ?= $(CH_ADDR)
GO_TEST_FLAGS ?= -race -count=1 -timeout 15m

.PHONY: help build demo test test-unit lint fuzz bench soak clickhouse clickhouse-stop cluster cluster-stop test-cluster tools dashboard-picture clean

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}' | sed 's/\$$(CH_PORT)/$(CH_PORT)/g'

build: ## build bin/wapipe (wapipe --version names the commit)
	go build -buildvcs=auto -ldflags "-X main.buildCommit=$$(git describe --always --dirty --abbrev=40 2>/dev/null)" -o bin/wapipe ./cmd/wapipe

clickhouse: ## install (if missing) and start the private ClickHouse on 127.0.0.1:$(CH_PORT)
	scripts/clickhouse.sh start

clickhouse-stop: ## stop the private ClickHouse
	scripts/clickhouse.sh stop

cluster: ## install (if missing) and start the loopback clusters: ZooKeeper, 2 replicas of 1 shard, a 2-shard one (scripts/cluster.sh)
	scripts/cluster.sh start

cluster-stop: ## stop the loopback cluster
	scripts/cluster.sh stop

tools: ## install docker-compose and prometheus with apt-get, as root, when missing (to validate docker-compose.yml and run the dashboard's queries in the tests; SKIP_TOOLS=1: don't)
	@[ -n "$(SKIP_TOOLS)" ] || command -v docker-compose >/dev/null || { [ "$$(id -u)" = 0 ] && echo "installing docker-compose with apt-get (to validate docker-compose.yml; skip: make test SKIP_TOOLS=1)" && DEBIAN_FRONTEND=noninteractive apt-get install -y -q docker-compose >/dev/null || echo "docker-compose not installed: its check will be skipped"; }
	@[ -n "$(SKIP_TOOLS)" ] || command -v prometheus >/dev/null || { [ "$$(id -u)" = 0 ] && echo "installing prometheus with apt-get (to run the dashboard's queries; skip: make test SKIP_TOOLS=1)" && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends prometheus >/dev/null || echo "prometheus not installed: the dashboard's queries will only be checked against /metrics"; }

demo: clickhouse build ## run the whole job end to end: broker, generated traffic, worker, ClickHouse, summary
	bin/wapipe demo --clickhouse $(CH_ADDR)

lint: ## gofmt and go vet
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	go vet ./...

test: clickhouse tools lint ## every test, against the private ClickHouse and the embedded broker, with -race
	go test $(GO_TEST_FLAGS) ./...
	go test -run '^$$' -fuzz FuzzDecode -fuzztime 20s ./stages/decode/
	go test -run '^$$' -fuzz FuzzErrorHeader -fuzztime 10s ./sinks/deadletter/
	$(MAKE) test-cluster

# The cluster's ports (scripts/cluster.sh): node N listens on CLUSTER_PORT+N-1.
CLUSTER_PORT ?= 19201
export WAPIPE_CLUSTER_PORT := $(CLUSTER_PORT)

# -p 1: the e2e test stops a server the other package's tests use.
test-cluster: ## the cluster tests: ZooKeeper, 1 shard x 2 replicas and 2 shards, migrate --cluster, a worker with a replica stopped mid-run, FINAL exact; stops them after
	scripts/cluster.sh start
	WAPIPE_TEST_CLUSTER=$$(scripts/cluster.sh addrs) WAPIPE_TEST_CLUSTER_SHARDED=$$(scripts/cluster.sh sharded-addrs) \
		go test $(GO_TEST_FLAGS) -p 1 -run 'Cluster' ./sinks/clickhouse/ ./e2e/; \
		status=$$?; scripts/cluster.sh stop; exit $$status

bench: clickhouse build ## the end-to-end benchmark (go run ./bench -h for its flags)
	go run ./bench --clickhouse $(CH_ADDR)

soak: clickhouse build ## the soak: 1M webhooks, 1% poison, 3 workers, 10 SIGKILLs, +1/-1 worker, ClickHouse cut 30 s; fails unless nothing is lost or doubled
	go run ./bench --soak --build=false --clickhouse $(CH_ADDR)

dashboard-picture: clickhouse tools ## draw docs/dashboard.png: the Grafana dashboard's panels from a real 2-minute run scraped by Prometheus (needs chromium: apt-get install chromium)
	WAPIPE_TEST_CLICKHOUSE=$(CH_ADDR) WAPIPE_DASHBOARD_PICTURE=$(CURDIR)/docs/dashboard.png go test -count=1 -timeout 10m -run TestDashboardQueriesNameExportedMetrics -v ./e2e/

clean: ## remove build output and the private ClickHouse's data
	scripts/clickhouse.sh stop || true
	scripts/cluster.sh stop || true
	rm -rf bin .clickhouse .cluster data
