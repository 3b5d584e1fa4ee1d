# Every target installs and builds what it needs, so each works on a fresh clone.
SHELL := /bin/bash
NODE_MODULES_STAMP := node_modules/.package-lock.json

.PHONY: all install build proto test test-cluster soak sim bench bench-server bench-checker bench-elle bench-report bench-core-data bench-wire clean

all: build

$(NODE_MODULES_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $(NODE_MODULES_STAMP)

install: $(NODE_MODULES_STAMP)

# The generated code under proto/gen is committed, so a build needs no codegen tool;
# `make proto` regenerates it after a .proto change.
proto: install
	npx buf generate proto --template proto/buf.gen.yaml

build: install
	npx tsc -p tsconfig.json

test: build
	bash scripts/test.sh

test-cluster: build
	node dist/controller/cli.js run register --nodes 5 --time-limit 60 --nemesis kill,pause,partition

soak: build
	bash scripts/soak.sh

sim: build
	node dist/server/sim/cli.js --seeds 1-500 --steps 5000

bench: bench-server bench-checker bench-elle bench-report bench-core-data bench-wire

bench-server: build
	node dist/bench/server.js

bench-checker: build
	node dist/bench/checker.js

bench-elle: build
	node dist/bench/elle.js

bench-report: build
	node dist/bench/report.js

bench-core-data: build
	node dist/bench/core-data.js

bench-wire: build
	node dist/bench/transport-wire.js

clean:
	rm -rf dist
