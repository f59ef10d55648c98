# slidingjwt: the two set-up commands are `make demo` and `make test`.
GO        ?= go
# The toolchain make runs: a patched Go release that the go command fetches
# once through the module proxy (about 76 MB, a few seconds). govulncheck is
# clean on it; the machine's own Go may lack security fixes. go.mod still
# asks only for go 1.26.8, so applications build with any Go from there.
# `make test GO_TOOLCHAIN=local` uses the installed Go instead.
GO_TOOLCHAIN ?= go1.27.3
export GOTOOLCHAIN := $(GO_TOOLCHAIN)
# Tools are built by that toolchain and kept apart per toolchain (a
# govulncheck built by an older Go cannot load a newer standard library).
GOBIN     := $(CURDIR)/.tools/$(GO_TOOLCHAIN)
BENCHTIME ?= 1s
BENCHCOUNT ?= 6
FUZZTIME  ?= 30s

# Tools CI needs, pinned. Installed with `go install` when missing or at
# another version.
STATICCHECK_VERSION := v0.8.2
GOVULNCHECK_VERSION := v1.9.0
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
GOVULNCHECK := golang.org/x/vuln/cmd/govulncheck@$(GOVULNCHECK_VERSION)
BENCHSTAT   := golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da

# MODULES are the directories of the repository's modules, the root (.)
# first: every directory with a go.mod (.ci/modules), so a module added
# later is vetted, tested and checked without being named here.
MODULES = $(shell .ci/modules)

.PHONY: test deps tools vet race allocations client client-copy staticcheck vulncheck bench fuzz demo bench-e2e

# test: install what the tests need, then in every module: vet, every test
# with the race detector (the fuzz seed corpora run as ordinary tests), the
# allocation tests, which skip under the race detector, without it, then
# staticcheck and govulncheck (see .ci/vulncheck for its offline database).
# Each step covers all modules before the next starts, in this order also
# under make -j, and the first failure stops the run.
test: deps tools
	$(RUN_VET)
	$(RUN_CLIENT_DEPS)
	$(RUN_RACE)
	$(RUN_ALLOCATIONS)
	$(RUN_CLIENT)
	$(RUN_STATICCHECK)
	$(RUN_VULNCHECK)

vet:
	$(RUN_VET)
race: deps
	$(RUN_RACE)
allocations:
	$(RUN_ALLOCATIONS)
client: deps
	$(RUN_CLIENT)
staticcheck: tools
	$(RUN_STATICCHECK)
vulncheck: tools
	$(RUN_VULNCHECK)

# The steps, each a loop over MODULES.
define RUN_VET
@set -e; for m in $(MODULES); do \
	echo "== $$m: go vet ./..."; \
	$(GO) -C "$$m" vet ./...; \
done
endef

define RUN_RACE
@set -e; for m in $(MODULES); do \
	echo "== $$m: go test -race -count=1 ./..."; \
	$(GO) -C "$$m" test -race -count=1 ./...; \
done
endef

# The allocation tests are the tests named Test...Allocations; they run in
# the packages of each module that have one.
define RUN_ALLOCATIONS
@set -e; for m in $(MODULES); do \
	pkgs=$$($(GO) -C "$$m" list -f '{{.ImportPath}} {{.Dir}}' ./... | while read -r pkg dir; do \
		if grep -qsE '^func Test[[:alnum:]_]*Allocations\(' "$$dir"/*_test.go; then echo "$$pkg"; fi; \
	done); \
	if [ -n "$$pkgs" ]; then \
		echo "== $$m: go test -count=1 -run 'Allocations$$' "$$pkgs; \
		$(GO) -C "$$m" test -count=1 -run 'Allocations$$' $$pkgs; \
	fi; \
done
endef

# The JS client's tests (client/): installed from its lockfile (before the
# race step, whose demo browser tests load axios's browser build from
# client/node_modules), run with Node's test runner against a demo server
# they build and start.
define RUN_CLIENT_DEPS
@echo "== client: npm ci"
@cd client && npm ci --no-audit --no-fund --loglevel=error
endef

define RUN_CLIENT
@echo "== client: node --test"
@cd client && { test -d node_modules || npm ci --no-audit --no-fund --loglevel=error; } && GO="$(GO)" node --test
endef

define RUN_STATICCHECK
@set -e; for m in $(MODULES); do \
	echo "== $$m: staticcheck ./..."; \
	(cd "$$m" && $(GOBIN)/staticcheck ./...); \
done
endef

# govulncheck: the database is built once, then every module is checked.
define RUN_VULNCHECK
GO="$(GO)" GOVULNCHECK_BIN="$(GOBIN)/govulncheck" .ci/vulncheck $(MODULES)
endef

# tools installs staticcheck and govulncheck at their pinned versions.
tools:
	@$(GOBIN)/staticcheck -version 2>/dev/null | grep -qF '($(STATICCHECK_VERSION:v%=%))' || \
		{ echo "go install $(STATICCHECK)"; GOBIN="$(GOBIN)" $(GO) install $(STATICCHECK); }
	@$(GOBIN)/govulncheck -version 2>/dev/null | grep -qF 'govulncheck@$(GOVULNCHECK_VERSION)' || \
		{ echo "go install $(GOVULNCHECK)"; GOBIN="$(GOBIN)" $(GO) install $(GOVULNCHECK); }

# deps installs redis-server and chromium on Debian when they are missing and
# we are root; elsewhere the tests that need them skip and say how to install.
deps:
	@missing=""; \
	command -v redis-server >/dev/null 2>&1 || missing="$$missing redis-server"; \
	command -v redis-cli >/dev/null 2>&1 || missing="$$missing redis-tools"; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	node -e 'process.exit(+process.versions.node.split(".")[0] >= 20 ? 0 : 1)' >/dev/null 2>&1 || missing="$$missing nodejs npm"; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			echo "installing:$$missing"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
		else \
			echo "not installed:$$missing (tests that need them will skip; on Debian: apt-get install$$missing)"; \
		fi; \
	fi

# bench: every row, then the request rows again beside 64 MB of live data
# (BENCH_HEAP_MB, see bench/doc.go), all but the renewals on lru, bolt and
# redis, whose store dominates: what the rows cost in an application that
# holds data, and how a request scales to a second core there.
HEAP_SKIP := Request/renew/(lru|bolt|redis)
# -p 1: the two packages' benchmarks one after the other, not at once on
# the same cores (and with their output lines unmixed).
bench:
	$(GO) test -p 1 -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) -count $(BENCHCOUNT) ./bench ./revocation | tee bench.out
	BENCH_HEAP_MB=64 $(GO) test -run '^$$' -bench 'Request/' -skip '$(HEAP_SKIP)' -benchmem -benchtime $(BENCHTIME) -count $(BENCHCOUNT) ./bench | tee bench-heap64.out
	@test -x $(GOBIN)/benchstat || GOBIN="$(GOBIN)" $(GO) install $(BENCHSTAT)
	$(GOBIN)/benchstat bench.out
	@echo "== beside 64 MB of live data (BENCH_HEAP_MB=64)"
	$(GOBIN)/benchstat bench-heap64.out

fuzz:
	@set -e; for m in $(MODULES); do \
		for pkg in $$($(GO) -C "$$m" list ./...); do \
			for target in $$($(GO) -C "$$m" test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
				echo "== $$pkg $$target"; \
				$(GO) -C "$$m" test -run '^$$' -fuzz "^$$target$$" -fuzztime $(FUZZTIME) $$pkg; \
			done; \
		done; \
	done

# soak runs the long form of the demo's load-and-fault test (TestLoadAndFault
# in examples/demo/loadfault_test.go): demo processes on a real Redis with
# its append-only file and on a bbolt file, with a session per client; Redis
# restarted every 20 s, an instance killed with SIGKILL every 20 s (the bbolt
# one every 15 s), for SOAK_DURATION (default 3m), without the race detector;
# it prints the figures (requests served, renewals, faults survived).
# `make test` runs the short form (about 20 s).
SOAK_DURATION ?= 3m
.PHONY: soak
soak: deps
	SLIDINGJWT_SOAK=1 SLIDINGJWT_SOAK_DURATION=$(SOAK_DURATION) SLIDINGJWT_REQUIRE_TOOLS=1 \
		$(GO) -C examples/demo test -count=1 -timeout 60m -run '^TestLoadAndFault$$' -v .

# client-copy copies the JS client's modules (client/) into the demo's
# static folder, which the demo embeds: Go's embed cannot reach outside
# its module's folder. The copies are committed, so a checkout builds as it
# is; examples/demo's TestClientCopy fails while they differ from client/.
# A plain copy: no npm.
CLIENT_MODULES := client.js axios.js
client-copy:
	@for f in $(CLIENT_MODULES); do cmp -s client/$$f examples/demo/static/$$f || { echo "cp client/$$f examples/demo/static/$$f"; cp client/$$f examples/demo/static/$$f; }; done

# demo runs the example app, a module of its own in examples/demo, on ADDR
# (default localhost:8080) with short lifetimes, so renewal and expiry can
# be watched within a minute or two.
demo: client-copy
	GUEST_TOKEN_EXPIRE_HOURS=$${GUEST_TOKEN_EXPIRE_HOURS:-0.02} \
	TOKEN_EXPIRE_HOURS=$${TOKEN_EXPIRE_HOURS:-0.05} \
	TOKEN_RENEW_MIN_INTERVAL_SECONDS=$${TOKEN_RENEW_MIN_INTERVAL_SECONDS:-10} \
	$(GO) -C examples/demo run .

# ---------------------------------------------------------------------------
# bench-e2e: end-to-end throughput over loopback TCP (bench/e2e/README.md).
# Each door with its default config, and echo-jwt, against its bare
# framework serving the same handler, under wrk: servers pinned to core 0,
# wrk to core 1, interleaved rounds, the median of E2E_ROUNDS (default 10)
# rounds of E2E_DURATION seconds (default 3); about 8 minutes on a quiet
# machine (see the README for a shared one). A quick look:
# `make bench-e2e E2E_ROUNDS=2 E2E_DURATION=1`. Installs wrk on Debian
# when missing and we are root.
bench-e2e:
	@command -v wrk >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			echo "installing: wrk"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; \
		else \
			echo "bench-e2e needs wrk (on Debian: apt-get install wrk)"; exit 1; \
		fi; \
	}
	GO="$(GO)" $(if $(E2E_ROUNDS),E2E_ROUNDS=$(E2E_ROUNDS)) $(if $(E2E_DURATION),E2E_DURATION=$(E2E_DURATION)) bench/e2e/run.sh
