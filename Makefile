# Every target runs from the project's own virtual environment, built from the pinned
# requirement files, so a machine needs only Python 3 and make.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | cksum | cut -d' ' -f1)

.PHONY: venv test lint demo bench clean

venv: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/cfn-lint template/*.yaml

test: lint
	$(BIN)/pytest

# The whole stack lifecycle on a local AWS emulation (moto's server on 127.0.0.1, no account,
# no network; tools/demo.py): e.g. make demo ARGS="--fail validation", ARGS="--json",
# ARGS="--domain www.example.org --san api.example.org"; ARGS="--help" lists the options.
# The recipe is not echoed, so `make demo ARGS=--json` prints nothing but the JSON report.
demo: $(STAMP)
	@$(BIN)/python -m tools.demo $(ARGS)

# Simulated benchmark of the waiting engine (tools/bench.py): prints a table and writes
# bench-results.json; ARGS="--help" lists the options.
bench: $(STAMP)
	$(BIN)/python -m tools.bench $(ARGS)

# Deployment (see README.md). `build` writes the function package; `deploy` uploads it to
# BUCKET with `aws cloudformation package` and deploys template/provider.yaml as STACK;
# `deploy-example` deploys template/example.yaml (a certificate for DOMAIN in hosted zone
# ZONE) against it. REGION defaults to the AWS CLI's own configuration.
STACK         ?= wait-for-certificate
EXAMPLE_STACK ?= $(STACK)-example
CERT_REGION   ?= us-east-1
PACKAGE_ZIP   := dist/wait-for-certificate.zip
AWS            = $(BIN)/aws $(if $(REGION),--region $(REGION))
# Stop with one line, not a traceback, when the AWS CLI has no usable credentials.
check-aws = err=$$($(AWS) sts get-caller-identity 2>&1 >/dev/null) || { \
	echo "make $(1): no usable AWS credentials ($$(echo "$$err" | grep . | tail -n 1))"; exit 1; }

.PHONY: build deploy deploy-example

build: $(STAMP)
	$(BIN)/python -m release.build_zip --output $(PACKAGE_ZIP)

deploy: $(STAMP)
	@test -n "$(BUCKET)" || { echo "make deploy: set BUCKET=<an S3 bucket in the deployment region> for the function package"; exit 1; }
	@$(call check-aws,deploy)
	@$(MAKE) --no-print-directory build
	$(AWS) cloudformation package --template-file template/provider.yaml \
		--s3-bucket '$(BUCKET)' --s3-prefix '$(STACK)' --output-template-file dist/provider.packaged.yaml
	$(AWS) cloudformation deploy --template-file dist/provider.packaged.yaml --stack-name '$(STACK)' \
		--capabilities CAPABILITY_IAM --no-fail-on-empty-changeset $(if $(PARAMS),--parameter-overrides $(PARAMS))
	$(AWS) cloudformation describe-stacks --stack-name '$(STACK)' --query 'Stacks[0].Outputs' --output table

deploy-example: $(STAMP)
	@test -n "$(DOMAIN)" && test -n "$(ZONE)" || { echo "make deploy-example: set DOMAIN=<certificate name> and ZONE=<its Route 53 hosted zone id>"; exit 1; }
	@$(call check-aws,deploy-example)
	$(AWS) cloudformation deploy --template-file template/example.yaml --stack-name '$(EXAMPLE_STACK)' \
		--no-fail-on-empty-changeset --parameter-overrides 'ProviderStackName=$(STACK)' \
		'DomainName=$(DOMAIN)' 'HostedZoneId=$(ZONE)' 'CertificateRegion=$(CERT_REGION)'
	$(AWS) cloudformation describe-stacks --stack-name '$(EXAMPLE_STACK)' --query 'Stacks[0].Outputs' --output table

clean:
	rm -rf $(VENV) dist .pytest_cache .mypy_cache .ruff_cache
