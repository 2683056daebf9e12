# Thin wrappers over the npm scripts; the README's two commands are the source of truth.
.PHONY: all setup install gen check-gen lint synth test typecheck bench

all: gen

node_modules: package.json package-lock.json
	npm ci
	@touch node_modules

install: node_modules

setup:
	npm run setup

gen: node_modules
	npx tsx tools/cli.ts gen

check-gen: node_modules
	npx tsx tools/cli.ts gen --check

lint: node_modules
	npx tsx tools/cli.ts lint

synth: node_modules
	npx tsx tools/cli.ts synth

test: node_modules
	npm test

typecheck: node_modules
	npx tsc --noEmit

bench: node_modules
	npx tsx tools/cli.ts bench --hdl
