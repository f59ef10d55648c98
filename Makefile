# slidingjwt: the two set-up commands are `make demo` and `make test`.
GO        ?= go
GOBIN     ?= $(shell $(GO) env GOPATH)/bin
BENCHTIME ?= 1s
BENCHCOUNT ?= 6
FUZZTIME  ?= 30s

# Tools CI needs, pinned. Installed with `go install` when missing.
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.7.0
GOVULNCHECK := golang.org/x/vuln/cmd/govulncheck@v1.1.4
BENCHSTAT   := golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da

.PHONY: test deps vet bench fuzz demo

# test: install what the tests need, vet, and run every test with the race
# detector (the fuzz seed corpora run as ordinary tests).
test: deps vet
	$(GO) test -race -count=1 ./...

# deps installs redis-server and chromium on Debian when they are missing and
# we are root; elsewhere the tests that need them skip and say how to install.
deps:
	@missing=""; \
	command -v redis-server >/dev/null 2>&1 || missing="$$missing redis-server"; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			echo "installing:$$missing"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
		else \
			echo "not installed:$$missing (tests that need them will skip; on Debian: apt-get install$$missing)"; \
		fi; \
	fi

vet:
	$(GO) vet ./...

bench:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) -count $(BENCHCOUNT) ./bench | tee bench.out
	@test -x $(GOBIN)/benchstat || $(GO) install $(BENCHSTAT)
	$(GOBIN)/benchstat bench.out

fuzz:
	@for pkg in $$($(GO) list ./...); do \
		for target in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
			echo "== $$pkg $$target"; \
			$(GO) test -run '^$$' -fuzz "^$$target$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
		done; \
	done

# demo runs the example app on ADDR (default localhost:8080) with short
# lifetimes, so renewal and expiry can be watched within a minute or two.
demo:
	GUEST_TOKEN_EXPIRE_HOURS=$${GUEST_TOKEN_EXPIRE_HOURS:-0.02} \
	TOKEN_EXPIRE_HOURS=$${TOKEN_EXPIRE_HOURS:-0.05} \
	TOKEN_RENEW_MIN_INTERVAL_SECONDS=$${TOKEN_RENEW_MIN_INTERVAL_SECONDS:-10} \
	$(GO) run ./examples/demo
