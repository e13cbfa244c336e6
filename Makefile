# The two commands a newcomer needs; both work on a fresh machine with a Rust toolchain.
.PHONY: run test

# Build and run the portal on the embedded defaults (data in ./data, http://127.0.0.1:8080).
run:
	./scripts/run.sh

# Build and run every test: unit tests and the integration suite (real database, real HTTP).
test:
	./scripts/test.sh
